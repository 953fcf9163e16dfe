"""The writer: a plan (`catalogue.planner.plan`) written in bulk, inside the caller's transaction.

New products, new offers and tiers are inserted with COPY on PostgreSQL (ids reserved from their
sequences first) and with bulk_create elsewhere; changed offers are upserted on (supplier,
supplier_sku). Model instances are built a batch at a time, so memory stays flat.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone
from django.utils.text import slugify

from catalogue import row_hashes
from catalogue.browse_data import product_browse_refresh
from catalogue.indexing import products_changed
from catalogue.models import Offer, Product, VolumeTier
from catalogue.planner.plan import chunks, offer_values, product_values
from catalogue.planner.types import OFFER_FIELDS, PRODUCT_FIELDS, OfferPlan, Write
from catalogue.row_hashes import offer_input_hash
from organisations.models import Organisation

BATCH_SIZE = 1000
# A plan writing at least this many rows (offers and new products) refreshes PostgreSQL's statistics
# of the catalogue tables before the browse data is recomputed from them.
ANALYZE_AFTER_ROWS = 10_000


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
        (reserved, product_slug(known.planned[0].name), *product_values(*known.planned), {}, True)
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
    update_fields = [*OFFER_FIELDS, "supplier_sku", "status", "pending_changes", "row_hash", "updated_at"]
    for batch in chunks(updates, BATCH_SIZE):
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
    with row_hashes.hooks_suspended():  # the offers' hashes, written above, count the new tiers
        for chunk in chunks(replaced):
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
    # 5. Bulk writes fire no signals: the browse data of every product touched is recomputed here, in
    #    this transaction (set-based), and the search index hears of them on commit.
    touched = {*plan.product_updates, *(known.id for known in plan.new_products)}
    for write in (*creates, *updates):
        touched.add(write.product.id)
        if write.existing is not None:
            touched.add(write.existing.product_id)
    counts = plan.counts()
    if counts["created"] + counts["updated"] + counts["products_created"] >= ANALYZE_AFTER_ROWS:
        _statistics_refresh()
    if touched:  # a plan that changes nothing buyers see (an unchanged file) leaves the caches be
        product_browse_refresh(touched)
        products_changed(touched)
    return counts


def _statistics_refresh() -> None:
    """Bring PostgreSQL's statistics of the catalogue tables up to date after a large write (its own
    new rows count: ANALYZE samples them inside the writing transaction). Until autovacuum gets to
    it (never, where it is off), the planner takes a table just filled by COPY for a small one: the
    browse data's recomputation right after, and the next upload's joins, were answered with full
    scans and nested loops (re-uploading 100,000 rows took minutes so)."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Product, Offer, VolumeTier))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _offer_row(supplier: Organisation, write: Write) -> dict:
    return {
        "supplier_id": supplier.pk,
        "supplier_sku": write.item.data.supplier_sku,
        "product_id": write.product.id,
        "status": write.status,
        **offer_values(write.item, write.existing),
        # The terms and tiers written here are the item's (tiers are replaced when they differ).
        "row_hash": write.item.row_hash or offer_input_hash(write.item.data),
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
