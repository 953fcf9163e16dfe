"""The planner: what writing some offers would do, worked out without writing anything.

One planner serves a single offer (a form, the API, a moderator's approval) and a whole file (the
importer): it matches each offer to its product (`catalogue.matching`), compares it with what is
saved, and applies the moderation rules. Items are consumed a block at a time, each block's saved
offers and products loaded in a few queries, and rows that change nothing keep nothing, so a large
re-upload stays small. `catalogue.planner.write` then writes the plan in bulk.

A file's rows that change nothing are recognised first, in one join per block and without loading
anything into Python (`recognise_unchanged`, `_unchanged_offers`): the row's hash against the saved
offer's `row_hash`, the row's product details against the saved product's columns. Only the other
rows are loaded, matched and compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from catalogue.matching import IdentifierConflict, KnownProduct, ProductIndex, ProductKeys
from catalogue.models import Offer, OfferStatus, Product, VolumeTier
from catalogue.planner.types import (
    OFFER_FIELDS,
    PRODUCT_FIELDS,
    Existing,
    OfferPlan,
    PlanError,
    PlanItem,
    Write,
)
from catalogue.row_hashes import offer_input_hash
from catalogue.selectors import category_key, category_paths
from catalogue.types import OfferInput
from common.errors import DomainError
from common.staging import Staging
from organisations.models import Organisation, OrganisationKind

# Items planned together: one block's saved offers and products are loaded in a few queries.
PLAN_BLOCK = 5000
# Rows per statement when the writer works through a long list.
QUERY_CHUNK = 5000


def _existing_offers(*, supplier: Organisation, skus: set[str], ids: set[int], staging: Staging) -> dict:
    """Saved offers of this supplier with these SKUs (or ids), by SKU, with their tiers."""
    condition = Q(supplier_sku__in=staging.values(skus, kind="text"))
    if ids:
        condition |= Q(id__in=staging.values(ids, kind="integer"))
    offers = Offer.objects.filter(supplier=supplier).filter(condition).order_by()
    columns = ("id", "supplier_sku", "status", "pending_changes", *OFFER_FIELDS)
    found: dict[str, Existing] = {}
    for row in offers.values_list(*columns):
        found[row[1]] = Existing(*row)
    by_id = {e.id: e for e in found.values()}
    if not by_id:
        return found
    tiers: dict[int, list] = defaultdict(list)
    tier_rows = VolumeTier.objects.filter(offer_id__in=offers.values("id")).order_by("offer_id", "min_packs")
    for offer_id, min_packs, price in tier_rows.values_list("offer_id", "min_packs", "pack_price"):
        tiers[offer_id].append((min_packs, price))
    for offer_id, pairs in tiers.items():
        by_id[offer_id].tiers = tuple(pairs)
    return found


@dataclass(frozen=True, slots=True)
class _Unchanged:
    """A saved offer a row leaves exactly as it is (by the unchanged-row join)."""

    product_id: int
    status: str


# What the join stages per row: its SKU, its hash and its product's details (PRODUCT_FIELDS).
_STAGED_COLUMNS = (
    ("sku", "text"),
    ("row_hash", "text"),
    ("name", "text"),
    ("description", "text"),
    ("category_id", "integer"),
    ("manufacturer", "text"),
    ("manufacturer_part_number", "text"),
    ("gtin", "text"),
    ("npc", "text"),
    ("unit_of_measure", "text"),
    ("units_per_pack", "integer"),
)
_NULLABLE = {"gtin", "npc"}
# An offer a file leaves alone is on sale (a file puts drafts and withdrawn offers back on sale)
# with no change held for moderation (a file repeating the live terms takes a held change back).
_UNCHANGED_STATUSES = (OfferStatus.LIVE, OfferStatus.PENDING)


def _unchanged_offers(
    *, supplier: Organisation, rows: list[tuple], staging: Staging
) -> dict[str, _Unchanged]:
    """The rows (staged as `_STAGED_COLUMNS`) whose saved offer has the row's hash, is on sale with
    nothing held, and whose product has exactly the row's details: one join, by SKU."""
    if not rows:
        return {}
    staged = staging.rows(_STAGED_COLUMNS, rows)
    quote = connection.ops.quote_name
    offer, product = quote(Offer._meta.db_table), quote(Product._meta.db_table)
    same_product = " AND ".join(
        f"(p.{quote(name)} = s.{quote(name)} OR (p.{quote(name)} IS NULL AND s.{quote(name)} IS NULL))"
        if name in _NULLABLE
        else f"p.{quote(name)} = s.{quote(name)}"
        for name, _ in _STAGED_COLUMNS[2:]
    )
    # Table and column names are ours; the values are parameters.
    sql = f"""
        SELECT s.sku, o.product_id, o.status
        FROM {staged} s
        JOIN {offer} o ON o.supplier_id = %s AND o.supplier_sku = s.sku
        JOIN {product} p ON p.id = o.product_id
        WHERE o.row_hash = s.row_hash
          AND o.status IN (%s, %s)
          AND o.pending_changes IS NULL
          AND {same_product}
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [supplier.pk, *_UNCHANGED_STATUSES])
        return {sku: _Unchanged(product_id, status) for sku, product_id, status in cursor.fetchall()}


def _product_owners(product_ids: set[int], *, staging: Staging) -> dict[int, set[int]]:
    """Which suppliers offer each of these products."""
    owners: dict[int, set[int]] = defaultdict(set)
    if not product_ids:
        return owners
    rows = Offer.objects.filter(product_id__in=staging.values(product_ids, kind="integer")).order_by()
    for product_id, supplier_id in rows.values_list("product_id", "supplier_id").distinct():
        owners[product_id].add(supplier_id)
    return owners


def _product_details(product_ids: set[int], *, staging: Staging) -> dict[int, tuple]:
    """The saved PRODUCT_FIELDS of these products, as tuples in that order."""
    if not product_ids:
        return {}
    products = Product.objects.filter(id__in=staging.values(product_ids, kind="integer")).order_by()
    return {pk: tuple(values) for pk, *values in products.values_list("id", *PRODUCT_FIELDS)}


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


def product_values(data: OfferInput, category_id: int) -> tuple:
    target = _product_target(data, category_id)
    return tuple(target[name] for name in PRODUCT_FIELDS)


def offer_values(item: PlanItem, existing: Existing | None) -> dict:
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


class OfferPlanner:
    """Plans one supplier's offers. It remembers, across blocks, what it has learnt of the products
    (which it may rewrite, what they hold now, what they will hold) and what it has planned so far.

    `apply_directly` defaults to the supplier's trusted status (a moderator's approval passes
    True). `new_status` is the status of new offers (default: live if applied directly, else
    pending). `relist` puts draft and withdrawn offers back on sale (a file lists what the
    supplier sells). `recognise_unchanged` (files) first finds, per block, the rows that leave their
    saved offer and its product exactly as they are (`_unchanged_offers`) and plans only the rest:
    the plan is the same as comparing every row, without loading the unchanged ones.
    """

    def __init__(
        self,
        *,
        supplier: Organisation,
        apply_directly: bool | None = None,
        new_status: str | None = None,
        relist: bool = False,
        recognise_unchanged: bool = False,
    ) -> None:
        if supplier.kind != OrganisationKind.SUPPLIER:
            raise DomainError("Only suppliers have offers.", field="supplier")
        self.supplier = supplier
        self.direct = supplier.is_trusted_supplier if apply_directly is None else apply_directly
        self.on_sale = OfferStatus.LIVE if self.direct else OfferStatus.PENDING
        self.new_status = new_status or self.on_sale
        self.relist = relist
        # A supplier's first file has nothing to leave unchanged: no join then.
        self.recognise_unchanged = recognise_unchanged and Offer.objects.filter(supplier=supplier).exists()
        # Saved products an earlier row of this plan re-keyed or gave details: a later row of the
        # same product is planned in full, as its outcome may depend on those rows.
        self.touched_products: set[int] = set()
        self.categories = category_paths()
        self.index = ProductIndex()
        self.owners_known: set[int] = set()
        # Products only this supplier offers: the offer's details may rewrite them.
        self.writable_ids: set[int] = set()
        self.stored_products: dict[int, tuple] = {}
        self.product_targets: dict[int, tuple] = {}
        self.new_products: list[KnownProduct] = []
        self.writes: list[Write] = []
        self.errors: list[PlanError] = []

    def plan(self, items: Iterable[PlanItem]) -> OfferPlan:
        for block in _batched(items, PLAN_BLOCK):
            self._load(block)
        # Keep only real product changes (a product may have flipped and come back within the file).
        product_updates = {
            pid: dict(zip(PRODUCT_FIELDS, target, strict=True))
            for pid, target in self.product_targets.items()
            if self.stored_products[pid] != target
        }
        return OfferPlan(
            supplier=self.supplier,
            writes=self.writes,
            errors=self.errors,
            new_products=self.new_products,
            product_updates=product_updates,
        )

    def _load(self, block: list[PlanItem]) -> None:
        # A block's keys are staged in temporary tables and joined, never written into the SQL.
        with Staging() as staging:
            unchanged = self._unchanged(block, staging=staging) if self.recognise_unchanged else {}
            rest = [i for i in block if i.offer_id or i.data.supplier_sku not in unchanged]
            existing_by_sku, existing_by_id = self._fetch(rest, staging=staging)
        for item in block:
            same = None if item.offer_id else unchanged.get(item.data.supplier_sku)
            if same is not None and same.product_id not in self.touched_products:
                self.writes.append(Write(None, None, "unchanged", same.status))
                continue
            if same is not None:
                # Its product was changed by an earlier row: plan it in full, as comparing every row would.
                with Staging() as staging:
                    found, _ = self._fetch([item], staging=staging)
                self._plan_item(item, found.get(item.data.supplier_sku))
                continue
            existing = (
                existing_by_id.get(item.offer_id)
                if item.offer_id
                else existing_by_sku.get(item.data.supplier_sku)
            )
            self._plan_item(item, existing)

    def _unchanged(self, block: list[PlanItem], *, staging: Staging) -> dict[str, _Unchanged]:
        """The block's file rows (no offer id, no dates) that change nothing, by SKU."""
        rows = []
        for item in block:
            data = item.data
            category_id = self.categories.get(category_key(data.category_path))
            if item.offer_id or item.has_validity or category_id is None:
                continue
            item.row_hash = item.row_hash or offer_input_hash(data)
            rows.append((data.supplier_sku, item.row_hash, *product_values(data, category_id)))
        return _unchanged_offers(supplier=self.supplier, rows=rows, staging=staging)

    def _fetch(self, items: list[PlanItem], *, staging: Staging) -> tuple[dict, dict]:
        """The items' saved offers (by SKU and by id), with their products known to the index and,
        for products only this supplier sells, their saved details."""
        if not items:
            return {}, {}
        existing_by_sku = _existing_offers(
            supplier=self.supplier,
            skus={i.data.supplier_sku for i in items},
            ids={i.offer_id for i in items if i.offer_id},
            staging=staging,
        )
        self.index.load(
            (_keys(i.data) for i in items),
            product_ids={e.product_id for e in existing_by_sku.values()},
            staging=staging,
        )
        unknown = set(self.index.by_id) - self.owners_known
        self.owners_known |= unknown
        owners = _product_owners(unknown, staging=staging)
        block_writable = {pid for pid, who in owners.items() if who == {self.supplier.pk}}
        self.writable_ids |= block_writable
        self.stored_products.update(_product_details(block_writable, staging=staging))
        return existing_by_sku, {e.id: e for e in existing_by_sku.values()}

    def _writable(self, product: KnownProduct) -> bool:
        return product.id is None or product.id in self.writable_ids

    def _plan_item(self, item: PlanItem, existing: Existing | None) -> None:
        data = item.data
        category_id = self.categories.get(category_key(data.category_path))
        if category_id is None:
            self.errors.append(
                PlanError(
                    item.row,
                    DomainError(
                        f"'{data.category_path}' is not a category in the marketplace's tree",
                        field="category_path",
                    ),
                )
            )
            return
        keys = _keys(data)
        try:
            match = self.index.match(keys)
        except IdentifierConflict as conflict:
            self.errors.append(PlanError(item.row, conflict))
            return
        # Decide the product without touching the index yet: a held change must not move anything.
        product: KnownProduct | None = match.product
        rekey = False
        create = False
        if product is not None:
            if match.disagreements:
                if not self._writable(product):
                    self.errors.append(PlanError(item.row, match.disagreement_error(keys)))
                    return
                rekey = True
        elif existing is not None and existing.product_id in self.writable_ids:
            product = self.index.by_id[existing.product_id]
            rekey = product.keys != keys
        elif existing is not None and keys.is_empty:
            product = self.index.by_id.get(existing.product_id)
        if product is None:
            create = True
            product = KnownProduct(id=None, name=data.name, keys=keys)
        elif product.id is not None and product.id in self.writable_ids:
            rekey = rekey or product.keys != keys

        values = offer_values(item, existing)
        tiers = tuple(data.tiers)
        target = product_values(data, category_id)
        # Compared with what is saved (not with earlier rows), so a re-upload finds nothing to do.
        product_changes = product.id in self.writable_ids and self.stored_products[product.id] != target
        changed = existing is None or (
            create
            or data.supplier_sku != existing.supplier_sku
            or product.id != existing.product_id
            or tiers != existing.tiers
            or any(value != getattr(existing, name) for name, value in values.items())
        )

        if existing is not None and existing.status == OfferStatus.LIVE and not self.direct:
            self._hold(item, existing, changed=changed or product_changes)
            return

        # Not held: this write happens, so the index learns of the product and its identifiers.
        if create:
            self.new_products.append(product)
            self.index.add(product)
        elif rekey:
            self.index.rekey(product, keys)
            self.touched_products.add(product.id)
        if product.id is None:
            product.planned = (data, category_id)  # the last row for a new product describes it
        elif product.id in self.writable_ids:
            self.product_targets[product.id] = target
            self.touched_products.add(product.id)
        status = existing.status if existing is not None else self.new_status
        if existing is not None and self.relist and status in (OfferStatus.DRAFT, OfferStatus.WITHDRAWN):
            status = self.on_sale
            changed = True
        if existing is not None and not changed:
            self.writes.append(Write(None, None, "unchanged", status))  # keeps nothing: re-uploads stay small
            return
        self.writes.append(
            Write(
                item,
                existing,
                "create" if existing is None else "update",
                status,
                product=product,
                tiers_changed=existing is None or tiers != existing.tiers,
            )
        )

    def _hold(self, item: PlanItem, existing: Existing, *, changed: bool) -> None:
        """A live offer of an untrusted supplier keeps its terms: a change waits for moderation."""
        if changed:
            payload = item.data.to_json()
            if existing.pending_changes == payload:
                self.writes.append(Write(None, None, "unchanged", existing.status))
            else:
                self.writes.append(Write(item, existing, "hold", existing.status))
                existing.pending_changes = payload  # a later row with the same SKU compares to this
        elif existing.pending_changes is not None:
            self.writes.append(Write(item, existing, "release", existing.status))
        else:
            self.writes.append(Write(None, None, "unchanged", existing.status))


def offers_plan(
    *,
    supplier: Organisation,
    items: Iterable[PlanItem],
    apply_directly: bool | None = None,
    new_status: str | None = None,
    relist: bool = False,
    recognise_unchanged: bool = False,
) -> OfferPlan:
    """Work out what writing these (cleaned) offers would do, without writing anything (see
    `OfferPlanner` for the arguments)."""
    planner = OfferPlanner(
        supplier=supplier,
        apply_directly=apply_directly,
        new_status=new_status,
        relist=relist,
        recognise_unchanged=recognise_unchanged,
    )
    return planner.plan(items)


def _batched(items: Iterable, size: int) -> Iterable[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def chunks(values: list, size: int = QUERY_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
