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

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

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


@dataclass
class PlanItem:
    """One offer to write: `row` is its spreadsheet row (0 for a form), `offer_id` the offer it
    changes when known (forms); files find the offer by SKU."""

    data: OfferInput
    row: int = 0
    offer_id: int | None = None
    # Files have no validity columns: keep the offer's dates rather than clearing them.
    has_validity: bool = True


@dataclass
class PlanError:
    row: int
    error: DomainError


@dataclass
class Existing:
    """The saved state of an offer, as plain values (no model instances: files can be large)."""

    id: int
    supplier_sku: str
    status: str
    pending_changes: dict | None
    values: dict
    tiers: tuple[tuple[int, Decimal], ...]


@dataclass
class Write:
    item: PlanItem
    existing: Existing | None
    action: str  # create | update | hold | release | unchanged
    status: str
    product: KnownProduct | None = None
    values: dict = field(default_factory=dict)
    tiers: tuple[tuple[int, Decimal], ...] = ()
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
        counts["products_created"] = sum(1 for p in self.new_products if self._is_used(p))
        counts["products_updated"] = len(self.product_updates)
        return counts

    def _is_used(self, product: KnownProduct) -> bool:
        return product.planned.get("used", False)


def _existing_offers(*, supplier: Organisation, skus: set[str] | None, ids: set[int]) -> dict:
    """Saved offers of this supplier by SKU (all of them for a file), with their tiers."""
    queryset = Offer.objects.filter(supplier=supplier).order_by()
    if skus is not None:
        queryset = queryset.filter(Q(id__in=ids) | Q(supplier_sku__in=skus))
    columns = ("id", "supplier_sku", "status", "pending_changes", *OFFER_FIELDS)
    found: dict[str, Existing] = {}
    for row in queryset.values(*columns).iterator(chunk_size=QUERY_CHUNK):
        values = {name: row[name] for name in OFFER_FIELDS}
        found[row["supplier_sku"]] = Existing(
            id=row["id"],
            supplier_sku=row["supplier_sku"],
            status=row["status"],
            pending_changes=row["pending_changes"],
            values=values,
            tiers=(),
        )
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


def _product_details(product_ids: Iterable[int]) -> dict[int, dict]:
    details = {}
    for chunk in _chunks(sorted(product_ids)):
        for row in Product.objects.filter(id__in=chunk).order_by().values("id", *PRODUCT_FIELDS):
            details[row.pop("id")] = row
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


def offers_plan(
    *,
    supplier: Organisation,
    items: Sequence[PlanItem],
    apply_directly: bool | None = None,
    new_status: str | None = None,
    relist: bool = False,
    whole_catalogue: bool = False,
) -> OfferPlan:
    """Work out what writing these (cleaned) offers would do, without writing anything.

    `apply_directly` defaults to the supplier's trusted status (a moderator's approval passes
    True). `new_status` is the status of new offers (default: live if applied directly, else
    pending). `relist` puts draft and withdrawn offers back on sale (a file lists what the
    supplier sells). `whole_catalogue` loads all the supplier's offers at once (files).
    """
    if supplier.kind != OrganisationKind.SUPPLIER:
        raise DomainError("Only suppliers have offers.", field="supplier")
    direct = supplier.is_trusted_supplier if apply_directly is None else apply_directly
    on_sale = OfferStatus.LIVE if direct else OfferStatus.PENDING
    new_status = new_status or on_sale
    categories = category_paths()
    skus = None if whole_catalogue else {i.data.supplier_sku for i in items}
    existing_by_sku = _existing_offers(
        supplier=supplier, skus=skus, ids={i.offer_id for i in items if i.offer_id}
    )
    existing_by_id = {e.id: e for e in existing_by_sku.values()}
    index = ProductIndex.for_keys(
        (_keys(i.data) for i in items),
        product_ids={e.values["product_id"] for e in existing_by_sku.values()},
    )
    owners = _product_owners(index.by_id)
    writable_ids = {pid for pid, who in owners.items() if who == {supplier.pk}}
    stored_products = _product_details(writable_ids)
    product_targets: dict[int, dict] = {}
    new_products: list[KnownProduct] = []
    writes: list[Write] = []
    errors: list[PlanError] = []

    def writable(product: KnownProduct) -> bool:
        return product.id is None or product.id in writable_ids

    for item in items:
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
        elif existing is not None and existing.values["product_id"] in writable_ids:
            product = index.by_id[existing.values["product_id"]]
            rekey = product.keys != keys
        elif existing is not None and keys.is_empty:
            product = index.by_id.get(existing.values["product_id"])
        if product is None:
            create = True
            product = KnownProduct(id=None, name=data.name, keys=keys)
        elif product.id is not None and product.id in writable_ids:
            rekey = rekey or product.keys != keys

        values = {
            "pack_price": data.pack_price,
            "vat_rate": data.vat_rate,
            "units_per_pack": data.units_per_pack,
            "lead_time_days": data.lead_time_days,
            "min_order_packs": data.min_order_packs,
            "stock_status": data.stock_status,
            "patient_eligible": data.patient_eligible,
            "valid_from": data.valid_from,
            "valid_to": data.valid_to,
        }
        if not item.has_validity and existing is not None:
            values["valid_from"] = existing.values["valid_from"]
            values["valid_to"] = existing.values["valid_to"]
        tiers = tuple(data.tiers)
        target = _product_target(data, category_id)
        # Compared with what is saved (not with earlier rows), so a re-upload finds nothing to do.
        product_changes = product.id in writable_ids and any(
            stored_products[product.id][name] != target[name] for name in PRODUCT_FIELDS
        )
        changed = existing is None or (
            create
            or data.supplier_sku != existing.supplier_sku
            or product.id != existing.values["product_id"]
            or tiers != existing.tiers
            or any(values[name] != existing.values[name] for name in values)
        )

        held = existing is not None and existing.status == OfferStatus.LIVE and not direct
        if held:
            if changed or product_changes:
                payload = data.to_json()
                action = "unchanged" if existing.pending_changes == payload else "hold"
                writes.append(Write(item, existing, action, existing.status))
                if action == "hold":
                    existing.pending_changes = payload  # a later row with the same SKU compares to this
            elif existing.pending_changes is not None:
                writes.append(Write(item, existing, "release", existing.status))
            else:
                writes.append(Write(item, existing, "unchanged", existing.status))
            continue

        # Not held: this write happens, so the index learns of the product and its identifiers.
        if create:
            product.planned = {**target, "used": True}
            new_products.append(product)
            index.add(product)
        elif rekey:
            index.rekey(product, keys)
        if product.id is None:
            product.planned.update(target, used=True)
        elif product.id in writable_ids:
            product_targets[product.id] = target
        status = existing.status if existing is not None else new_status
        if existing is not None and relist and status in (OfferStatus.DRAFT, OfferStatus.WITHDRAWN):
            status = on_sale
            changed = True
        if existing is not None and not changed:
            writes.append(Write(item, existing, "unchanged", status))
            continue
        writes.append(
            Write(
                item,
                existing,
                "create" if existing is None else "update",
                status,
                product=product,
                values=values,
                tiers=tiers,
                tiers_changed=existing is None or tiers != existing.tiers,
            )
        )
    # Keep only real product changes (a product may have flipped and come back within the file).
    product_updates = {
        pid: target
        for pid, target in product_targets.items()
        if any(stored_products[pid][name] != target[name] for name in PRODUCT_FIELDS)
    }
    return OfferPlan(
        supplier=supplier,
        writes=writes,
        errors=errors,
        new_products=new_products,
        product_updates=product_updates,
    )


def product_slug(name: str) -> str:
    """A readable, unique slug: the name and a random suffix (products share names across sizes)."""
    return f"{slugify(name)[:200].strip('-') or 'product'}-{secrets.token_hex(6)}"


def offers_apply(*, plan: OfferPlan) -> dict[str, int]:
    """Write a plan in bulk (inside the caller's transaction). Returns the counts for the user."""
    if plan.errors:
        raise plan.errors[0].error
    now = timezone.now()
    # 1. New products, then changed products.
    to_create = [p for p in plan.new_products if p.planned.get("used")]
    created = Product.objects.bulk_create(
        [
            Product(slug=product_slug(p.planned["name"]), **{n: p.planned[n] for n in PRODUCT_FIELDS})
            for p in to_create
        ],
        batch_size=BATCH_SIZE,
    )
    for known, saved in zip(to_create, created, strict=True):
        known.id = saved.pk
    if plan.product_updates:
        changed_products = [
            Product(id=pid, updated_at=now, **target) for pid, target in plan.product_updates.items()
        ]
        Product.objects.bulk_update(changed_products, [*PRODUCT_FIELDS, "updated_at"], batch_size=BATCH_SIZE)
    # 2. Offers: new and changed ones in one upsert keyed on (supplier, supplier_sku).
    upserts: list[tuple[Write, Offer]] = []
    renames: list[Write] = []
    for write in plan.writes:
        if write.action not in ("create", "update"):
            continue
        if write.existing is not None and write.existing.supplier_sku != write.item.data.supplier_sku:
            renames.append(write)
        upserts.append(
            (
                write,
                Offer(
                    supplier=plan.supplier,
                    supplier_sku=write.item.data.supplier_sku,
                    product_id=write.product.id,
                    status=write.status,
                    pending_changes=None,
                    **write.values,
                ),
            )
        )
    for write in renames:
        Offer.objects.filter(pk=write.existing.id).update(supplier_sku=write.item.data.supplier_sku)
    update_fields = [*(f for f in OFFER_FIELDS), "status", "pending_changes", "updated_at"]
    saved_offers = Offer.objects.bulk_create(
        [offer for _, offer in upserts],
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["supplier", "supplier_sku"],
        update_fields=update_fields,
    )
    offer_ids = {}
    for (write, _), saved in zip(upserts, saved_offers, strict=True):
        offer_ids[id(write)] = saved.pk if saved.pk is not None else write.existing.id
    # 3. Tiers: replaced for offers whose tiers changed.
    replaced = [offer_ids[id(w)] for w, _ in upserts if w.tiers_changed and w.existing is not None]
    for chunk in _chunks(sorted(replaced)):
        VolumeTier.objects.filter(offer_id__in=chunk).delete()
    VolumeTier.objects.bulk_create(
        [
            VolumeTier(offer_id=offer_ids[id(w)], min_packs=m, pack_price=p)
            for w, _ in upserts
            if w.tiers_changed
            for m, p in w.tiers
        ],
        batch_size=BATCH_SIZE * 5,
    )
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
    return plan.counts()


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


def _chunks(values: list, size: int = QUERY_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
