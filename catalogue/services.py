"""The catalogue's commands: offers created, changed, withdrawn and moderated; categories ensured.

One planner serves both a single offer (a form, the API) and a whole file (the importer): it
matches each offer to its product (`catalogue.matching`), works out what would change, applies
the moderation rules, and then writes everything in bulk. So a file of 100,000 rows and one
form submission follow exactly the same rules.

Moderation: offers from a supplier without `is_trusted_supplier` wait as `pending` until a
moderator approves them; a change to a LIVE offer from such a supplier is kept in
`Offer.pending_changes` and the live terms stay until it is approved. Trusted suppliers' offers
and changes go live at once.

Canonical products are shared between suppliers, so an offer only rewrites its product's
details (name, description, category, identifiers) when no other supplier offers that product.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalogue.indexing import products_changed
from catalogue.matching import IdentifierConflict, KnownProduct, ProductIndex, ProductKeys
from catalogue.models import CATEGORY_SEPARATOR, Category, Offer, OfferStatus, Product, VolumeTier
from catalogue.types import OfferInput
from catalogue.validators import offer_input_clean
from common import audit
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.models import AuditEvent
from organisations.models import Organisation, OrganisationKind
from organisations.permissions import SUPPLIER_ROLES, can_act_for

BATCH_SIZE = 1000
# Items planned together: one block's saved offers and products are loaded in a few queries.
PLAN_BLOCK = 5000
QUERY_CHUNK = 5000

# The offer's own terms, as compared and written by the planner.
OFFER_FIELDS = (
    "product_id",
    "pack_price",
    "vat_rate",
    "units_per_pack",
    "lead_time_days",
    "min_order_packs",
    "stock_status",
    "patient_eligible",
    "valid_from",
    "valid_to",
)
# The product's details an offer may set (when its supplier is the product's only one).
PRODUCT_FIELDS = (
    "name",
    "description",
    "category_id",
    "manufacturer",
    "manufacturer_part_number",
    "gtin",
    "npc",
    "unit_of_measure",
    "units_per_pack",
)


# --- Categories ---------------------------------------------------------------------------------


def category_tree_ensure(*, paths: Iterable[str]) -> dict[str, Category]:
    """Each path ('Clinical consumables > Gloves > Examination gloves') and its ancestors, created
    if missing. Returns every category on the paths by path."""
    wanted: list[list[str]] = []
    for path in paths:
        names = [part.strip() for part in path.split(CATEGORY_SEPARATOR.strip())]
        if not all(names):
            raise DomainError(f"'{path}' has an empty level", field="category_path")
        wanted.append(names)
    with transaction.atomic():
        existing = {c.path: c for c in Category.objects.all()}
        slugs = {c.slug for c in existing.values()}
        for names in wanted:
            parent: Category | None = None
            for depth in range(len(names)):
                path = CATEGORY_SEPARATOR.join(names[: depth + 1])
                category = existing.get(path)
                if category is None:
                    category = Category(name=names[depth], parent=parent)
                    category.slug = _unique_slug(names[depth], parent, slugs)
                    category.save()
                    existing[path] = category
                    slugs.add(category.slug)
                parent = category
    return {
        CATEGORY_SEPARATOR.join(n[: i + 1]): existing[CATEGORY_SEPARATOR.join(n[: i + 1])]
        for n in wanted
        for i in range(len(n))
    }


def _unique_slug(name: str, parent: Category | None, taken: set[str]) -> str:
    base = slugify(name)[:100] or "category"
    if base not in taken:
        return base
    if parent is not None:
        base = f"{parent.slug}-{base}"[:110]
    candidate, counter = base, 2
    while candidate in taken:
        candidate = f"{base}-{counter}"
        counter += 1
    return candidate


def category_key(path: str) -> str:
    """A path as typed, made comparable: 'clinical consumables >hosiery' finds 'Clinical ... > Hosiery'."""
    return CATEGORY_SEPARATOR.join(part.strip() for part in path.split(">")).casefold()


def category_paths() -> dict[str, int]:
    """Every category's id by its `category_key` (the tree is small: one query)."""
    return {category_key(path): pk for path, pk in Category.objects.values_list("path", "id")}


# --- The planner --------------------------------------------------------------------------------


@dataclass(slots=True)
class PlanItem:
    """One offer to write: `row` is its spreadsheet row (0 for a form), `offer_id` the offer it
    changes when known (forms); files find the offer by SKU."""

    data: OfferInput
    row: int = 0
    offer_id: int | None = None
    # Files have no validity columns: keep the offer's dates rather than clearing them.
    has_validity: bool = True


@dataclass(slots=True)
class PlanError:
    row: int
    error: DomainError


@dataclass(slots=True)
class Existing:
    """The saved state of an offer, as plain values (no model instances: files can be large)."""

    id: int
    supplier_sku: str
    status: str
    pending_changes: dict | None
    product_id: int
    pack_price: Decimal
    vat_rate: Decimal
    units_per_pack: int
    lead_time_days: int | None
    min_order_packs: int
    stock_status: str
    patient_eligible: bool
    valid_from: Any
    valid_to: Any
    tiers: tuple[tuple[int, Decimal], ...] = ()


@dataclass(slots=True)
class Write:
    item: PlanItem | None  # None when nothing is to be written
    existing: Existing | None
    action: str  # create | update | hold | release | unchanged
    status: str
    product: KnownProduct | None = None
    tiers_changed: bool = False


@dataclass
class OfferPlan:
    supplier: Organisation
    writes: list[Write]
    errors: list[PlanError]
    new_products: list[KnownProduct]
    product_updates: dict[int, dict]

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "awaiting_moderation": 0, "unchanged": 0}
        for write in self.writes:
            if write.action == "create":
                counts["created"] += 1
            elif write.action in ("update", "release"):
                counts["updated"] += 1
            elif write.action == "unchanged":
                counts["unchanged"] += 1
            waits = write.status == OfferStatus.PENDING and write.action != "unchanged"
            if write.action == "hold" or waits:
                counts["awaiting_moderation"] += 1
        counts["products_created"] = len(self.new_products)
        counts["products_updated"] = len(self.product_updates)
        return counts


def _existing_offers(*, supplier: Organisation, skus: set[str] | None, ids: set[int]) -> dict:
    """Saved offers of this supplier by SKU (all of them for a file), with their tiers."""
    queryset = Offer.objects.filter(supplier=supplier).order_by()
    if skus is not None:
        queryset = queryset.filter(Q(id__in=ids) | Q(supplier_sku__in=skus))
    columns = ("id", "supplier_sku", "status", "pending_changes", *OFFER_FIELDS)
    found: dict[str, Existing] = {}
    for row in queryset.values_list(*columns):
        found[row[1]] = Existing(*row)
    by_id = {e.id: e for e in found.values()}
    tiers: dict[int, list] = defaultdict(list)
    tier_rows = VolumeTier.objects.order_by("offer_id", "min_packs").values_list(
        "offer_id", "min_packs", "pack_price"
    )
    if skus is None:
        tier_rows = tier_rows.filter(offer__supplier=supplier)
        for offer_id, min_packs, price in tier_rows.iterator(chunk_size=QUERY_CHUNK):
            tiers[offer_id].append((min_packs, price))
    else:
        for chunk in _chunks(sorted(by_id)):
            for offer_id, min_packs, price in tier_rows.filter(offer_id__in=chunk):
                tiers[offer_id].append((min_packs, price))
    for offer_id, pairs in tiers.items():
        by_id[offer_id].tiers = tuple(pairs)
    return found


def _product_owners(product_ids: Iterable[int]) -> dict[int, set[int]]:
    """Which suppliers offer each of these products."""
    owners: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted(product_ids)):
        rows = Offer.objects.filter(product_id__in=chunk).order_by().values_list("product_id", "supplier_id")
        for product_id, supplier_id in rows.distinct():
            owners[product_id].add(supplier_id)
    return owners


def _product_details(product_ids: Iterable[int]) -> dict[int, tuple]:
    """The saved PRODUCT_FIELDS of these products, as tuples in that order."""
    details = {}
    for chunk in _chunks(sorted(product_ids)):
        for pk, *values in Product.objects.filter(id__in=chunk).order_by().values_list("id", *PRODUCT_FIELDS):
            details[pk] = tuple(values)
    return details


def _keys(data: OfferInput) -> ProductKeys:
    return ProductKeys(
        gtin=data.gtin,
        npc=data.npc,
        manufacturer=data.manufacturer,
        manufacturer_part_number=data.manufacturer_part_number,
    )


def _product_target(data: OfferInput, category_id: int) -> dict:
    return {
        "name": data.name,
        "description": data.description,
        "category_id": category_id,
        "manufacturer": data.manufacturer,
        "manufacturer_part_number": data.manufacturer_part_number,
        "gtin": data.gtin,
        "npc": data.npc,
        "unit_of_measure": data.unit_of_measure,
        "units_per_pack": data.units_per_pack,
    }


def _product_values(data: OfferInput, category_id: int) -> tuple:
    target = _product_target(data, category_id)
    return tuple(target[name] for name in PRODUCT_FIELDS)


def _offer_values(item: PlanItem, existing: Existing | None) -> dict:
    """The offer's own terms (not its product, SKU or status) as they will be saved."""
    data = item.data
    keep_dates = not item.has_validity and existing is not None
    return {
        "pack_price": data.pack_price,
        "vat_rate": data.vat_rate,
        "units_per_pack": data.units_per_pack,
        "lead_time_days": data.lead_time_days,
        "min_order_packs": data.min_order_packs,
        "stock_status": data.stock_status,
        "patient_eligible": data.patient_eligible,
        "valid_from": existing.valid_from if keep_dates else data.valid_from,
        "valid_to": existing.valid_to if keep_dates else data.valid_to,
    }


def offers_plan(
    *,
    supplier: Organisation,
    items: Iterable[PlanItem],
    apply_directly: bool | None = None,
    new_status: str | None = None,
    relist: bool = False,
) -> OfferPlan:
    """Work out what writing these (cleaned) offers would do, without writing anything.

    `apply_directly` defaults to the supplier's trusted status (a moderator's approval passes
    True). `new_status` is the status of new offers (default: live if applied directly, else
    pending). `relist` puts draft and withdrawn offers back on sale (a file lists what the
    supplier sells).

    Items are consumed a block at a time: each block's saved offers and products are loaded in a
    few queries, and rows that change nothing keep nothing, so a large re-upload stays small.
    """
    if supplier.kind != OrganisationKind.SUPPLIER:
        raise DomainError("Only suppliers have offers.", field="supplier")
    direct = supplier.is_trusted_supplier if apply_directly is None else apply_directly
    on_sale = OfferStatus.LIVE if direct else OfferStatus.PENDING
    new_status = new_status or on_sale
    categories = category_paths()
    index = ProductIndex()
    owners_known: set[int] = set()
    writable_ids: set[int] = set()
    stored_products: dict[int, tuple] = {}
    product_targets: dict[int, tuple] = {}
    new_products: list[KnownProduct] = []
    writes: list[Write] = []
    errors: list[PlanError] = []

    def writable(product: KnownProduct) -> bool:
        return product.id is None or product.id in writable_ids

    for block in _batched(items, PLAN_BLOCK):
        existing_by_sku = _existing_offers(
            supplier=supplier,
            skus={i.data.supplier_sku for i in block},
            ids={i.offer_id for i in block if i.offer_id},
        )
        existing_by_id = {e.id: e for e in existing_by_sku.values()}
        index.load(
            (_keys(i.data) for i in block), product_ids={e.product_id for e in existing_by_sku.values()}
        )
        unknown = set(index.by_id) - owners_known
        owners_known |= unknown
        block_writable = {pid for pid, who in _product_owners(unknown).items() if who == {supplier.pk}}
        writable_ids |= block_writable
        stored_products.update(_product_details(block_writable))
        _plan_block(
            block,
            supplier=supplier,
            direct=direct,
            on_sale=on_sale,
            new_status=new_status,
            relist=relist,
            categories=categories,
            index=index,
            existing_by_sku=existing_by_sku,
            existing_by_id=existing_by_id,
            writable=writable,
            writable_ids=writable_ids,
            stored_products=stored_products,
            product_targets=product_targets,
            new_products=new_products,
            writes=writes,
            errors=errors,
        )
    # Keep only real product changes (a product may have flipped and come back within the file).
    product_updates = {
        pid: dict(zip(PRODUCT_FIELDS, target, strict=True))
        for pid, target in product_targets.items()
        if stored_products[pid] != target
    }
    return OfferPlan(
        supplier=supplier,
        writes=writes,
        errors=errors,
        new_products=new_products,
        product_updates=product_updates,
    )


def _plan_block(
    block: list[PlanItem],
    *,
    supplier: Organisation,
    direct: bool,
    on_sale: str,
    new_status: str,
    relist: bool,
    categories: dict[str, int],
    index: ProductIndex,
    existing_by_sku: dict[str, Existing],
    existing_by_id: dict[int, Existing],
    writable,
    writable_ids: set[int],
    stored_products: dict[int, tuple],
    product_targets: dict[int, tuple],
    new_products: list[KnownProduct],
    writes: list[Write],
    errors: list[PlanError],
) -> None:
    """Plan one block of items (see offers_plan); appends to the plan's lists."""
    for item in block:
        data = item.data
        category_id = categories.get(category_key(data.category_path))
        if category_id is None:
            errors.append(
                PlanError(
                    item.row,
                    DomainError(
                        f"'{data.category_path}' is not a category in the marketplace's tree",
                        field="category_path",
                    ),
                )
            )
            continue
        existing = (
            existing_by_id.get(item.offer_id) if item.offer_id else existing_by_sku.get(data.supplier_sku)
        )
        keys = _keys(data)
        try:
            match = index.match(keys)
        except IdentifierConflict as conflict:
            errors.append(PlanError(item.row, conflict))
            continue
        # Decide the product without touching the index yet: a held change must not move anything.
        product: KnownProduct | None = match.product
        rekey = False
        create = False
        if product is not None:
            if match.disagreements:
                if not writable(product):
                    errors.append(PlanError(item.row, match.disagreement_error(keys)))
                    continue
                rekey = True
        elif existing is not None and existing.product_id in writable_ids:
            product = index.by_id[existing.product_id]
            rekey = product.keys != keys
        elif existing is not None and keys.is_empty:
            product = index.by_id.get(existing.product_id)
        if product is None:
            create = True
            product = KnownProduct(id=None, name=data.name, keys=keys)
        elif product.id is not None and product.id in writable_ids:
            rekey = rekey or product.keys != keys

        values = _offer_values(item, existing)
        tiers = tuple(data.tiers)
        target = _product_values(data, category_id)
        # Compared with what is saved (not with earlier rows), so a re-upload finds nothing to do.
        product_changes = product.id in writable_ids and stored_products[product.id] != target
        changed = existing is None or (
            create
            or data.supplier_sku != existing.supplier_sku
            or product.id != existing.product_id
            or tiers != existing.tiers
            or any(value != getattr(existing, name) for name, value in values.items())
        )

        held = existing is not None and existing.status == OfferStatus.LIVE and not direct
        if held:
            if changed or product_changes:
                payload = data.to_json()
                action = "unchanged" if existing.pending_changes == payload else "hold"
                if action == "hold":
                    writes.append(Write(item, existing, action, existing.status))
                else:
                    writes.append(Write(None, None, action, existing.status))
                if action == "hold":
                    existing.pending_changes = payload  # a later row with the same SKU compares to this
            elif existing.pending_changes is not None:
                writes.append(Write(item, existing, "release", existing.status))
            else:
                writes.append(Write(None, None, "unchanged", existing.status))
            continue

        # Not held: this write happens, so the index learns of the product and its identifiers.
        if create:
            new_products.append(product)
            index.add(product)
        elif rekey:
            index.rekey(product, keys)
        if product.id is None:
            product.planned = (data, category_id)  # the last row for a new product describes it
        elif product.id in writable_ids:
            product_targets[product.id] = target
        status = existing.status if existing is not None else new_status
        if existing is not None and relist and status in (OfferStatus.DRAFT, OfferStatus.WITHDRAWN):
            status = on_sale
            changed = True
        if existing is not None and not changed:
            writes.append(Write(None, None, "unchanged", status))  # keeps nothing: big re-uploads stay small
            continue
        writes.append(
            Write(
                item,
                existing,
                "create" if existing is None else "update",
                status,
                product=product,
                tiers_changed=existing is None or tiers != existing.tiers,
            )
        )


def product_slug(name: str) -> str:
    """A readable, unique slug: the name and a random suffix (products share names across sizes)."""
    return f"{slugify(name)[:200].strip('-') or 'product'}-{secrets.token_hex(6)}"


def offers_apply(*, plan: OfferPlan) -> dict[str, int]:
    """Write a plan in bulk (inside the caller's transaction). Returns the counts for the user.

    New products, new offers and tiers are inserted with COPY on PostgreSQL (ids reserved from
    their sequences first) and with bulk_create elsewhere; changed offers are upserted on
    (supplier, supplier_sku). Model instances are built a batch at a time, so memory stays flat.
    """
    if plan.errors:
        raise plan.errors[0].error
    now = timezone.now()
    # 1. Corrections to products only this supplier sells (first, as they may free an identifier
    #    a new product takes), then new products.
    if plan.product_updates:
        changed = [Product(id=pid, updated_at=now, **target) for pid, target in plan.product_updates.items()]
        Product.objects.bulk_update(changed, [*PRODUCT_FIELDS, "updated_at"], batch_size=BATCH_SIZE)
    product_columns = ["id", "slug", *PRODUCT_FIELDS, "attributes", "is_active"]
    product_rows = (
        (reserved, product_slug(known.planned[0].name), *_product_values(*known.planned), {}, True)
        for known, reserved in zip(
            plan.new_products, _reserve_ids(Product, len(plan.new_products)), strict=True
        )
    )
    for known, saved_id in zip(
        plan.new_products, _insert(Product, product_columns, product_rows), strict=True
    ):
        known.id = saved_id
    # 2. Offers: SKU renames first, then new offers inserted and changed ones upserted.
    creates = [w for w in plan.writes if w.action == "create"]
    updates = [w for w in plan.writes if w.action == "update"]
    for write in updates:
        if write.existing.supplier_sku != write.item.data.supplier_sku:
            Offer.objects.filter(pk=write.existing.id).update(supplier_sku=write.item.data.supplier_sku)
    offer_ids: dict[int, int] = {}
    offer_columns = (
        ["id", *_offer_row(plan.supplier, creates[0]), "pending_changes", "moderation_note"]
        if creates
        else []
    )
    offer_rows = (
        (reserved, *_offer_row(plan.supplier, write).values(), None, "")
        for write, reserved in zip(creates, _reserve_ids(Offer, len(creates)), strict=True)
    )
    for write, saved_id in zip(creates, _insert(Offer, offer_columns, offer_rows), strict=True):
        offer_ids[id(write)] = saved_id
    update_fields = [*OFFER_FIELDS, "supplier_sku", "status", "pending_changes", "updated_at"]
    for batch in _chunks(updates, BATCH_SIZE):
        Offer.objects.bulk_create(
            [Offer(**_offer_row(plan.supplier, w), pending_changes=None) for w in batch],
            update_conflicts=True,
            unique_fields=["supplier", "supplier_sku"],
            update_fields=update_fields,
        )
        for write in batch:
            offer_ids[id(write)] = write.existing.id
    # 3. Tiers: replaced for changed offers whose tiers changed, written for new offers.
    replaced = sorted(offer_ids[id(w)] for w in updates if w.tiers_changed)
    for chunk in _chunks(replaced):
        VolumeTier.objects.filter(offer_id__in=chunk).delete()
    tier_rows = (
        (offer_ids[id(w)], m, p)
        for w in (*creates, *updates)
        if w.tiers_changed
        for m, p in w.item.data.tiers
    )
    _insert(VolumeTier, ["offer_id", "min_packs", "pack_price"], tier_rows)
    # 4. Changes held for moderation, and held changes the supplier took back.
    held = [
        Offer(
            id=w.existing.id,
            pending_changes=w.existing.pending_changes if w.action == "hold" else None,
            updated_at=now,
        )
        for w in plan.writes
        if w.action in ("hold", "release")
    ]
    if held:
        Offer.objects.bulk_update(held, ["pending_changes", "updated_at"], batch_size=BATCH_SIZE)
    # 5. Bulk writes fire no signals: the search index hears of every product touched, on commit.
    touched = {*plan.product_updates, *(known.id for known in plan.new_products)}
    for write in (*creates, *updates):
        touched.add(write.product.id)
        if write.existing is not None:
            touched.add(write.existing.product_id)
    products_changed(touched)
    return plan.counts()


def _offer_row(supplier: Organisation, write: Write) -> dict:
    return {
        "supplier_id": supplier.pk,
        "supplier_sku": write.item.data.supplier_sku,
        "product_id": write.product.id,
        "status": write.status,
        **_offer_values(write.item, write.existing),
    }


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _reserve_ids(model: type[models.Model], count: int) -> list[int | None]:
    """On PostgreSQL, `count` ids taken from the table's sequence (so rows can be copied in with
    their ids); elsewhere Nones, and the database assigns ids on insert."""
    if not count or not _is_postgres():
        return [None] * count
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in cursor.fetchall()]


def _insert(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> list[int | None]:
    """Insert rows (tuples of values for `columns`, field attnames) and return their ids in order.

    PostgreSQL: one COPY, the fastest way in; ids come in the rows (from `_reserve_ids`) and the
    timestamps are set here as auto_now would. Elsewhere: bulk_create a batch at a time. Rows are
    consumed lazily, so a 100,000-row file never holds all its model instances at once.
    """
    fields = {f.attname: f for f in model._meta.concrete_fields}
    if _is_postgres():
        now = timezone.now()
        stamped = "created_at" in fields
        all_columns = [*columns, "created_at", "updated_at"] if stamped else list(columns)
        json_positions = [i for i, c in enumerate(columns) if isinstance(fields[c], models.JSONField)]
        id_position = columns.index("id") if "id" in columns else None
        ids: list[int | None] = []
        quoted = ", ".join(connection.ops.quote_name(c) for c in all_columns)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                values = list(row)
                for position in json_positions:
                    if values[position] is not None:
                        values[position] = json.dumps(values[position])
                if stamped:
                    values += [now, now]
                copy.write_row(values)
                ids.append(row[id_position] if id_position is not None else None)
        return ids
    ids = []
    batch: list[models.Model] = []

    def flush() -> None:
        ids.extend(obj.pk for obj in model.objects.bulk_create(batch))
        batch.clear()

    for row in rows:
        values = dict(zip(columns, row, strict=True))
        if values.get("id") is None:
            values.pop("id", None)
        batch.append(model(**values))
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return ids


def _raise_first(plan: OfferPlan) -> None:
    if plan.errors:
        raise plan.errors[0].error


# --- Single offers ------------------------------------------------------------------------------


def _check_actor(actor: Any, supplier: Organisation) -> None:
    """Defence in depth: views scope offers already; a user outside the supplier never gets here."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if not can_act_for(actor, supplier, roles=SUPPLIER_ROLES):
        raise NotFound("No such offer.")


def _locked(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().select_related("supplier").get(pk=offer.pk)


@transaction.atomic
def offer_create(*, supplier: Organisation, actor: Any, data: OfferInput, submit: bool = True) -> Offer:
    """A new offer: live at once from a trusted supplier, otherwise pending moderation (or a draft
    when `submit` is False)."""
    _check_actor(actor, supplier)
    data = offer_input_clean(data)
    if Offer.objects.filter(supplier=supplier, supplier_sku=data.supplier_sku).exists():
        raise Conflict(
            f"You already have an offer with SKU {data.supplier_sku}; change that offer instead.",
            field="supplier_sku",
        )
    plan = offers_plan(
        supplier=supplier, items=[PlanItem(data=data)], new_status=None if submit else OfferStatus.DRAFT
    )
    _raise_first(plan)
    offers_apply(plan=plan)
    return Offer.objects.get(supplier=supplier, supplier_sku=data.supplier_sku)


@transaction.atomic
def offer_update(*, offer: Offer, actor: Any, data: OfferInput) -> Offer:
    """Change an offer. A live offer of an untrusted supplier keeps its terms; the change waits in
    `pending_changes` for a moderator. Drafts, pending and withdrawn offers change at once."""
    offer = _locked(offer)
    _check_actor(actor, offer.supplier)
    data = offer_input_clean(data)
    if (
        data.supplier_sku != offer.supplier_sku
        and Offer.objects.filter(supplier=offer.supplier_id, supplier_sku=data.supplier_sku).exists()
    ):
        raise Conflict(f"You already have an offer with SKU {data.supplier_sku}.", field="supplier_sku")
    plan = offers_plan(supplier=offer.supplier, items=[PlanItem(data=data, offer_id=offer.pk)])
    _raise_first(plan)
    offers_apply(plan=plan)
    return Offer.objects.get(pk=offer.pk)


@transaction.atomic
def offer_withdraw(*, offer: Offer, actor: Any) -> Offer:
    """Take an offer off sale (any change waiting for moderation is dropped)."""
    offer = _locked(offer)
    _check_actor(actor, offer.supplier)
    if offer.status != OfferStatus.WITHDRAWN or offer.pending_changes is not None:
        offer.status = OfferStatus.WITHDRAWN
        offer.pending_changes = None
        offer.save(update_fields=["status", "pending_changes", "updated_at"])
    return offer


@transaction.atomic
def offer_submit(*, offer: Offer, actor: Any) -> Offer:
    """Put a draft or withdrawn offer on sale: live for a trusted supplier, else pending moderation."""
    offer = _locked(offer)
    _check_actor(actor, offer.supplier)
    if offer.status not in (OfferStatus.DRAFT, OfferStatus.WITHDRAWN):
        raise Conflict(f"This offer is already {offer.get_status_display().lower()}.", field="status")
    offer.status = OfferStatus.LIVE if offer.supplier.is_trusted_supplier else OfferStatus.PENDING
    offer.save(update_fields=["status", "updated_at"])
    return offer


def _check_moderator(moderator: Any) -> None:
    if not getattr(moderator, "is_staff", False) or not moderator.is_active:
        raise PermissionDenied("Only the marketplace team moderates offers.", field="moderator")


def _moderation_audit(*, offer: Offer, moderator: Any, decision: str, what: str, reason: str = "") -> None:
    audit.record(
        kind=AuditEvent.Kind.OFFER_MODERATED,
        actor=moderator,
        organisation_id=offer.supplier_id,
        subject=f"offer:{offer.pk}",
        data={"decision": decision, "what": what, "reason": reason, "supplier_sku": offer.supplier_sku},
    )


@transaction.atomic
def offer_approve(*, offer: Offer, moderator: Any) -> Offer:
    """Approve a pending offer (it goes live) or a live offer's waiting changes (they apply)."""
    _check_moderator(moderator)
    offer = _locked(offer)
    if offer.status == OfferStatus.PENDING:
        offer.status = OfferStatus.LIVE
        offer.moderation_note = ""
        offer.save(update_fields=["status", "moderation_note", "updated_at"])
        _moderation_audit(offer=offer, moderator=moderator, decision="approved", what="new offer")
        return offer
    if offer.status == OfferStatus.LIVE and offer.pending_changes:
        data = offer_input_clean(OfferInput.from_json(offer.pending_changes))
        plan = offers_plan(
            supplier=offer.supplier, items=[PlanItem(data=data, offer_id=offer.pk)], apply_directly=True
        )
        _raise_first(plan)
        offers_apply(plan=plan)
        Offer.objects.filter(pk=offer.pk).update(pending_changes=None, moderation_note="")
        offer.refresh_from_db()
        _moderation_audit(offer=offer, moderator=moderator, decision="approved", what="changes")
        return offer
    raise Conflict("Nothing about this offer is waiting for moderation.", field="status")


@transaction.atomic
def offer_reject(*, offer: Offer, moderator: Any, reason: str) -> Offer:
    """Turn down a pending offer (it returns to draft) or a live offer's changes (they are dropped)."""
    _check_moderator(moderator)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why, so the supplier can put it right.", field="reason")
    if len(reason) > 500:
        raise DomainError("Keep the reason to 500 characters.", field="reason")
    offer = _locked(offer)
    if offer.status == OfferStatus.PENDING:
        offer.status = OfferStatus.DRAFT
        what = "new offer"
    elif offer.status == OfferStatus.LIVE and offer.pending_changes:
        offer.pending_changes = None
        what = "changes"
    else:
        raise Conflict("Nothing about this offer is waiting for moderation.", field="status")
    offer.moderation_note = reason
    offer.save(update_fields=["status", "pending_changes", "moderation_note", "updated_at"])
    _moderation_audit(offer=offer, moderator=moderator, decision="rejected", what=what, reason=reason)
    return offer


def _batched(items: Iterable, size: int) -> Iterable[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _chunks(values: list, size: int = QUERY_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
