"""Commands that change purchase history: imports, received purchase-order lines, manual mappings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from common import gs1
from common.errors import DomainError, NotFound, PermissionDenied
from common.imports import UploadedFile, import_job_start
from common.models import ImportJob
from organisations.models import Organisation, User
from organisations.permissions import trusts_for
from pricing import analytics
from pricing.imports import KIND, CheckedLine, checked_line, line_problems
from pricing.matching import (
    Identifiers,
    Matcher,
    normalise,
    normalise_code,
    normalise_description,
)
from pricing.models import IdentifierKind, LineSource, ProductMapping, PurchaseHistoryLine
from pricing.periods import period_ids_for, periods_for_dates
from pricing.types import PurchaseLineInput

CHUNK = 2000
UPDATED_FIELDS = [
    "order_date",
    "supplier_name",
    "gtin",
    "npc",
    "supplier_sku",
    "manufacturer_part_number",
    "description",
    "quantity_packs",
    "units_per_pack",
    "pack_price",
    "product",
    "source",
    "import_job_id",
    "updated_at",
]


def _identifiers(line: CheckedLine | PurchaseHistoryLine) -> Identifiers:
    return Identifiers(
        trust_id=line.trust_id,
        gtin=gs1.gtin14(line.gtin),
        npc=normalise_code(line.npc),
        supplier_sku=normalise_code(line.supplier_sku),
        manufacturer_part_number=normalise_code(line.manufacturer_part_number),
        description=normalise_description(line.description),
    )


# A matched line as the rollup counts it: (product, trust, order date, packs, units per pack, pack price).
LineFact = tuple[int | None, int, dt.date, Decimal, int, Decimal]


def _rollup_changes(*, added: list[LineFact], removed: list[LineFact]) -> list[analytics.RollupChange]:
    """What lines written (`added`) and lines replaced or moved away (`removed`) change in the rollup:
    for each line and each of its periods, its line, units and spend, taken away for a removed one."""
    facts = [(fact, 1) for fact in added] + [(fact, -1) for fact in removed]
    matched = [(fact, sign) for fact, sign in facts if fact[0] is not None]
    periods = periods_for_dates(fact[2] for fact, _ in matched)
    changes: list[analytics.RollupChange] = []
    for (product, trust, day, packs, units_per_pack, pack_price), sign in matched:
        for period_id in period_ids_for(day, periods):
            changes.append(
                (period_id, product, trust, sign, sign * packs * units_per_pack, sign * packs * pack_price)
            )
    return changes


def purchase_lines_write(
    *,
    lines: Sequence[CheckedLine],
    source: str,
    import_job_id: int | None = None,
    product_ids: dict[int, int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Upsert checked lines by (trust, order, line), match them, and bring the rollup up to date.

    A line already held is replaced, so importing the same file twice changes nothing. `product_ids`
    ({row: product}) gives products already known (received purchase orders); the rest are matched.
    On PostgreSQL the lines go in with COPY and one upsert (pricing/sql/lines_upsert.postgresql.sql);
    elsewhere through the ORM. Both note what the lines add to the rollup and what the lines they
    replace take away, and end in `analytics.pair_totals_apply_batch`, which adds that to the rollup.
    """
    product_ids = product_ids or {}
    matcher = Matcher([_identifiers(line) for line in lines if line.row not in product_ids])
    line_products: list[int | None] = []
    for count, line in enumerate(lines, start=1):
        line_products.append(product_ids.get(line.row) or matcher.match(_identifiers(line)))
        if progress:
            progress(count)
    # Periods are created before the write, so that the SQL can place every line in its periods.
    periods_for_dates(line.order_date for line in lines)
    batch = analytics.new_batch()
    with transaction.atomic():
        analytics.rollup_writers_lock(line.trust_id for line in lines)
        if connection.vendor == "postgresql":
            replaced = _write_lines_postgresql(
                lines, line_products, batch=batch, source=source, import_job_id=import_job_id
            )
        else:
            replaced = _write_lines_orm(
                lines, line_products, batch=batch, source=source, import_job_id=import_job_id
            )
        analytics.pair_totals_apply_batch(batch=batch)
    matched = sum(product_id is not None for product_id in line_products)
    return {
        "lines": len(lines),
        "created": len(lines) - replaced,
        "replaced": replaced,
        "matched": matched,
        "unmatched": len(lines) - matched,
    }


# The checked line's fields, as CheckedLine and PurchaseHistoryLine both name them, with the types of
# the temporary table the PostgreSQL path copies them into.
INCOMING_LINE_COLUMNS = [
    ("trust_id", "bigint"),
    ("order_reference", "varchar(50)"),
    ("line_number", "integer"),
    ("order_date", "date"),
    ("supplier_name", "varchar(200)"),
    ("gtin", "varchar(14)"),
    ("npc", "varchar(10)"),
    ("supplier_sku", "varchar(64)"),
    ("manufacturer_part_number", "varchar(100)"),
    ("description", "varchar(500)"),
    ("quantity_packs", "numeric(14, 3)"),
    ("units_per_pack", "integer"),
    ("pack_price", "numeric(14, 4)"),
]
LINE_FIELDS = [name for name, _ in INCOMING_LINE_COLUMNS]


def _write_lines_postgresql(
    lines: Sequence[CheckedLine],
    line_products: Sequence[int | None],
    *,
    batch: int,
    source: str,
    import_job_id: int | None,
) -> int:
    """COPY the lines into a temporary table, then upsert them in one statement. Returns how many were
    already held (and so replaced)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in [*INCOMING_LINE_COLUMNS, ("product_id", "bigint")])
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pricing_incoming_line")
        cursor.execute(f"CREATE TEMPORARY TABLE pricing_incoming_line ({columns}) ON COMMIT DROP")
        names = ", ".join([*LINE_FIELDS, "product_id"])
        with cursor.copy(f"COPY pricing_incoming_line ({names}) FROM STDIN") as copy:
            for line, product_id in zip(lines, line_products, strict=True):
                copy.write_row([getattr(line, name) for name in LINE_FIELDS] + [product_id])
        cursor.execute(
            "SELECT count(*) FROM pricing_incoming_line i JOIN pricing_purchasehistoryline l "
            "ON l.trust_id = i.trust_id AND l.order_reference = i.order_reference "
            "AND l.line_number = i.line_number"
        )
        replaced = cursor.fetchone()[0]
    analytics.run_sql(
        "lines_upsert.postgresql.sql",
        {"batch": batch, "source": source, "import_job_id": import_job_id, "now": timezone.now()},
    )
    return replaced


def _write_lines_orm(
    lines: Sequence[CheckedLine],
    line_products: Sequence[int | None],
    *,
    batch: int,
    source: str,
    import_job_id: int | None,
) -> int:
    """The same write through the ORM (SQLite): note what the replaced lines counted, then upsert."""
    existing: dict[tuple[int, str, int], LineFact] = {}
    refs_by_trust: dict[int, set[str]] = {}
    for line in lines:
        refs_by_trust.setdefault(line.trust_id, set()).add(line.order_reference)
    for trust_id, refs in refs_by_trust.items():
        refs_list = sorted(refs)
        for start in range(0, len(refs_list), CHUNK):
            for (
                ref,
                number,
                product_id,
                day,
                packs,
                units_per_pack,
                pack_price,
            ) in PurchaseHistoryLine.objects.filter(
                trust_id=trust_id, order_reference__in=refs_list[start : start + CHUNK]
            ).values_list(
                "order_reference",
                "line_number",
                "product_id",
                "order_date",
                "quantity_packs",
                "units_per_pack",
                "pack_price",
            ):
                existing[(trust_id, ref, number)] = (
                    product_id,
                    trust_id,
                    day,
                    packs,
                    units_per_pack,
                    pack_price,
                )
    now = timezone.now()
    objects = []
    added: list[LineFact] = []
    removed: list[LineFact] = []
    replaced = 0
    for line, product_id in zip(lines, line_products, strict=True):
        objects.append(
            PurchaseHistoryLine(
                **{name: getattr(line, name) for name in LINE_FIELDS},
                product_id=product_id,
                source=source,
                import_job_id=import_job_id,
                created_at=now,
                updated_at=now,
            )
        )
        added.append(
            (
                product_id,
                line.trust_id,
                line.order_date,
                line.quantity_packs,
                line.units_per_pack,
                line.pack_price,
            )
        )
        old = existing.get((line.trust_id, line.order_reference, line.line_number))
        if old is not None:
            replaced += 1
            removed.append(old)
    PurchaseHistoryLine.objects.bulk_create(
        objects,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["trust", "order_reference", "line_number"],
        update_fields=UPDATED_FIELDS,
    )
    analytics.dirty_pairs_mark(batch=batch, changes=_rollup_changes(added=added, removed=removed))
    return replaced


def purchase_lines_record(
    *, trust: Organisation, lines: Sequence[PurchaseLineInput], source: str = LineSource.PURCHASE_ORDER
) -> dict:
    """Enter received purchase-order lines into the trust's purchase history (called by purchasing).

    Each typed line meets the rules a file row meets (`pricing.imports.line_problems`); raises
    DomainError naming the line and field. Recording the same order line again replaces it.
    """
    if not trust.is_trust:
        raise DomainError("Purchase history belongs to NHS trusts.", field="trust")
    today = dt.date.today()
    checked: list[CheckedLine] = []
    product_ids: dict[int, int] = {}
    for index, line in enumerate(lines, start=1):
        if line.product_id is not None and not (line.gtin or line.npc or line.supplier_sku):
            # A catalogue order line is identified by its product even without codes (a line holds
            # at least one identifier: the purchase_line_has_identifier constraint).
            line = dataclasses.replace(line, supplier_sku=f"PRODUCT-{line.product_id}")
        problems = line_problems(dataclasses.asdict(line), today=today)
        if problems:
            column, message = problems[0]
            raise DomainError(f"Line {index}: {column} {message}.", field=column)
        checked.append(checked_line(row=index, trust_id=trust.pk, line=line))
        if line.product_id is not None:
            product_ids[index] = line.product_id
    with transaction.atomic():
        summary = purchase_lines_write(lines=checked, source=source, product_ids=product_ids)
    transaction.on_commit(_schedule_refresh)
    return summary


def _schedule_refresh() -> None:
    from pricing.tasks import refresh_summaries

    refresh_summaries.delay()


# --- ERP file imports (an upload kind of common.imports, registered in pricing.apps) -----------


def purchase_history_import_start(
    *, trust: Organisation, actor: User, upload: UploadedFile, inline: bool | None = None
) -> ImportJob:
    """Store an ERP export uploaded for `trust` (the organisation the upload acts for:
    `organisations.acting`) and import it (common.imports.import_job_start). Every row must name that
    trust (`trust_ods`); a row naming another is a row error, so a file never imports lines for a
    trust other than the one acted for."""
    if not trust.is_trust:
        raise DomainError(f"{trust.name} is not an NHS trust.", field="trust")
    if not trusts_for(actor).filter(pk=trust.pk).exists():
        raise PermissionDenied(f"You do not act for {trust.name}.", field="trust")
    return import_job_start(
        kind=KIND, upload=upload, organisation_id=trust.pk, created_by=actor, inline=inline
    )


def purchase_history_imported(job: ImportJob) -> None:
    """After a file has applied: refresh the summaries once it is committed."""
    transaction.on_commit(_schedule_refresh)


# --- Manual mappings -------------------------------------------------------------------------


def product_mapping_create(
    *, user: User, trust: Organisation, kind: str, value: str, product_id: int
) -> tuple[ProductMapping, int]:
    """Remember that the trust's lines with this identifier are this product; apply it to its lines.

    Returns the mapping and how many of the trust's unmatched lines it matched now. Future lines
    carrying the identifier match too (see pricing.matching).
    """
    from catalogue.models import Product

    if not trusts_for(user).filter(pk=trust.pk).exists():
        raise NotFound("No such trust.")
    if kind not in IdentifierKind.values:
        raise DomainError("Choose what to match by.", field="kind")
    normalised = normalise(kind, value)
    if not normalised:
        raise DomainError("Give the identifier to match.", field="value")
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise DomainError("Choose a product from the catalogue.", field="product")
    with transaction.atomic():
        analytics.rollup_writers_lock([trust.pk])
        mapping, _ = ProductMapping.objects.update_or_create(
            trust=trust, kind=kind, value=normalised, defaults={"product_id": product_id, "created_by": user}
        )
        unmatched = list(
            PurchaseHistoryLine.objects.filter(trust=trust, product__isnull=True).only(
                "id", "trust_id", *COUNTED_FIELDS, *IdentifierKind.values
            )
        )
        hits = [line for line in unmatched if _identifiers(line).value(kind) == normalised]
        PurchaseHistoryLine.objects.filter(pk__in=[line.pk for line in hits]).update(
            product_id=product_id, updated_at=timezone.now()
        )
        # The lines were unmatched: they counted nowhere, and now count for the product.
        analytics.pair_totals_apply(
            changes=_rollup_changes(added=[_counted(line, product_id) for line in hits], removed=[])
        )
    if hits:
        transaction.on_commit(_schedule_refresh)
    return mapping, len(hits)


def unmatched_lines_rematch(*, trust_ids: Sequence[int] | None = None) -> int:
    """Match lines left unmatched against the catalogue as it is now (products are added over time)."""
    with transaction.atomic():
        unmatched = PurchaseHistoryLine.objects.filter(product__isnull=True)
        if trust_ids is not None:
            unmatched = unmatched.filter(trust_id__in=trust_ids)
        # Read under the trusts' locks, so that no writer replaces a line between reading and counting it.
        analytics.rollup_writers_lock(unmatched.order_by().values_list("trust_id", flat=True).distinct())
        lines = list(unmatched.only("id", "trust_id", *COUNTED_FIELDS, *IdentifierKind.values))
        matcher = Matcher([_identifiers(line) for line in lines])
        found: dict[int, list[PurchaseHistoryLine]] = {}
        for line in lines:
            product_id = matcher.match(_identifiers(line))
            if product_id is not None:
                found.setdefault(product_id, []).append(line)
        for product_id, hits in found.items():
            PurchaseHistoryLine.objects.filter(pk__in=[line.pk for line in hits]).update(
                product_id=product_id
            )
        analytics.pair_totals_apply(
            changes=_rollup_changes(
                added=[_counted(line, product_id) for product_id, hits in found.items() for line in hits],
                removed=[],
            )
        )
    return sum(len(hits) for hits in found.values())


# What the rollup counts of a line, besides its trust and product.
COUNTED_FIELDS = ["order_date", "quantity_packs", "units_per_pack", "pack_price"]


def _counted(line: PurchaseHistoryLine, product_id: int) -> LineFact:
    return (
        product_id,
        line.trust_id,
        line.order_date,
        line.quantity_packs,
        line.units_per_pack,
        line.pack_price,
    )


def summaries_refresh(*, full: bool = False) -> dict:
    """Recompute the summaries pages read: only what changed, or everything when `full`."""
    return analytics.summaries_refresh(full=full)
