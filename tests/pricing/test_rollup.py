"""The rollup (PairTotal) is kept by adding each write's differences; it must always equal a
recomputation from the lines, whatever the write did to them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from catalogue.models import Product
from organisations.models import Role
from pricing import analytics
from pricing.models import (
    DirtyPair,
    IdentifierKind,
    PairSeen,
    PairTotal,
    Period,
    PurchaseHistoryLine,
    StaleProduct,
)
from pricing.services import product_mapping_create, purchase_lines_write, unmatched_lines_rematch
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line, previous_quarter_day

pytestmark = pytest.mark.django_db


def recomputed() -> dict[tuple[int, int, int], tuple[int, Decimal, Decimal]]:
    """(period, product, trust) -> (lines, units, spend), summed in Decimal from every matched line."""
    totals: dict[tuple[int, int, int], list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    periods = list(Period.objects.all())
    for product_id, trust_id, day, packs, units_per_pack, price in PurchaseHistoryLine.objects.filter(
        product__isnull=False
    ).values_list("product_id", "trust_id", "order_date", "quantity_packs", "units_per_pack", "pack_price"):
        for period in periods:
            if period.starts_on <= day < period.ends_on:
                total = totals[(period.pk, product_id, trust_id)]
                total[0] += 1
                total[1] += packs * units_per_pack
                total[2] += packs * price
    return {key: (lines, units, spend) for key, (lines, units, spend) in totals.items()}


def stored() -> dict[tuple[int, int, int], tuple[int, Decimal, Decimal]]:
    return {
        (period, product, trust): (lines, units, spend)
        for period, product, trust, lines, units, spend in PairTotal.objects.values_list(
            "period_id", "product_id", "trust_id", "lines", "units", "spend"
        )
    }


def assert_rollup_is_the_lines() -> None:
    assert stored() == recomputed()
    assert not DirtyPair.objects.exists()


def write(trust, product, *, reference: str, number: int = 1, packs="2", upp=1, price="3.00", day=None):
    """Write one order line (replacing the one held under the same reference and number)."""
    from pricing.imports import CheckedLine

    purchase_lines_write(
        lines=[
            CheckedLine(
                row=1,
                trust_id=trust.pk,
                order_reference=reference,
                line_number=number,
                order_date=day or dt.date.today(),
                supplier_name="Supplier",
                gtin="",
                npc="",
                supplier_sku=f"ROLLUP-{reference}-{number}",
                manufacturer_part_number="",
                description="Line",
                quantity_packs=Decimal(packs),
                units_per_pack=upp,
                pack_price=Decimal(price),
            )
        ],
        source="erp_import",
        product_ids={1: product.pk} if product is not None else {},
    )


def test_the_rollup_equals_the_lines_after_every_kind_of_write():
    trusts = [TrustFactory() for _ in range(3)]
    gloves, masks = ProductFactory(), ProductFactory()
    earlier = previous_quarter_day()

    # New lines, two in one pair, in two quarters.
    write(trusts[0], gloves, reference="A", packs="10", upp=100, price="6.1234")
    write(trusts[0], gloves, reference="A", number=2, packs="2.5", upp=100, price="6.50")
    write(trusts[1], gloves, reference="B", packs="7", price="0.9999", day=earlier)
    assert_rollup_is_the_lines()

    # A line replaced by a corrected one: other quantity and price.
    write(trusts[0], gloves, reference="A", packs="12", upp=100, price="6.00")
    assert_rollup_is_the_lines()
    # Moved to another product: the old pair loses it, the new pair gains it.
    write(trusts[0], masks, reference="A", packs="12", upp=100, price="6.00")
    assert_rollup_is_the_lines()
    # Moved to another quarter (and possibly financial year).
    write(trusts[1], gloves, reference="B", packs="7", price="0.9999")
    assert_rollup_is_the_lines()
    # Replaced by a line no product matches: it counts nowhere.
    write(trusts[0], None, reference="A", number=2)
    assert_rollup_is_the_lines()
    # The pair's last line moves away: its rollup rows go.
    assert PairTotal.objects.filter(product=gloves, trust=trusts[1]).exists()
    write(trusts[1], masks, reference="B", packs="7", price="0.9999")
    assert not PairTotal.objects.filter(product=gloves, trust=trusts[1]).exists()
    assert_rollup_is_the_lines()

    # Many lines in one write, some replacing others of the same write's trusts.
    line(trusts[2], gloves, packs="3", pack_price="2.00")
    line(trusts[2], gloves, packs="4", pack_price="2.20", reference="C")
    line(trusts[2], masks, packs="5", pack_price="1.10", reference="C")
    assert_rollup_is_the_lines()


def test_writing_the_same_line_again_changes_and_marks_nothing():
    trust, product = TrustFactory(), ProductFactory()
    write(trust, product, reference="SAME", packs="4", price="2.50")
    StaleProduct.objects.all().delete()
    PairSeen.objects.all().delete()
    before = stored()
    write(trust, product, reference="SAME", packs="4", price="2.50")
    assert stored() == before
    assert not StaleProduct.objects.exists()
    assert not PairSeen.objects.exists()
    assert_rollup_is_the_lines()


def test_a_manual_mapping_and_the_nightly_rematch_add_the_lines_they_match():
    trust = TrustFactory()
    buyer = member(Role.BUYER, trust)
    mapped = ProductFactory()
    write(trust, None, reference="M", packs="3", price="4.00")
    write(trust, None, reference="N", packs="1", price="9.00")
    PurchaseHistoryLine.objects.filter(order_reference="N").update(supplier_sku="LATER-9")
    assert not PairTotal.objects.exists()

    _, matched = product_mapping_create(
        user=buyer, trust=trust, kind=IdentifierKind.SUPPLIER_SKU, value="ROLLUP-M-1", product_id=mapped.pk
    )
    assert matched == 1
    assert_rollup_is_the_lines()

    later = OfferFactory(supplier_sku="LATER-9").product
    assert unmatched_lines_rematch() == 1
    assert PairTotal.objects.filter(product=later).count() == 2
    assert_rollup_is_the_lines()


def test_a_deleted_product_takes_its_rollup_rows_as_its_lines_become_unmatched():
    trust, kept, dropped = TrustFactory(), ProductFactory(), ProductFactory()
    write(trust, kept, reference="K")
    write(trust, dropped, reference="D")
    write(trust, dropped, reference="E", day=previous_quarter_day())
    assert StaleProduct.objects.filter(product=dropped).count() >= 2
    Product.objects.filter(pk=dropped.pk).delete()
    assert_rollup_is_the_lines()
    # Its rollup rows and stale marks in every period went (pricing's own handler finds them through
    # the unique indexes); the other product's stayed.
    assert not PairTotal.objects.filter(product_id=dropped.pk).exists()
    assert not StaleProduct.objects.filter(product_id=dropped.pk).exists()
    assert StaleProduct.objects.filter(product=kept).exists()
    assert PairTotal.objects.filter(product=kept).exists()
    # The unmatched line can be replaced and matched again without a trace of its old product.
    write(trust, kept, reference="D", packs="5")
    assert_rollup_is_the_lines()


def test_the_full_rebuild_and_the_differences_agree():
    trusts = [TrustFactory() for _ in range(2)]
    product = ProductFactory()
    for index in range(6):
        write(trusts[index % 2], product, reference=f"R{index}", packs=f"{index + 1}.5", price=f"1.{index}5")
    write(trusts[0], product, reference="R0", packs="9")
    by_difference = stored()
    analytics.pair_totals_rebuild()
    assert stored() == by_difference
    assert_rollup_is_the_lines()


def test_the_scratch_rows_of_a_write_stay_out_of_the_wal_and_are_gone_when_it_commits():
    """pricing_dirtypair is unlogged on PostgreSQL (migration 0012): a crash empties it, which loses
    nothing, since every write consumes its own rows before it commits."""
    from django.db import connection

    trust = TrustFactory()
    product = ProductFactory()
    line(trust, product, packs="2", pack_price="3.50")
    assert_rollup_is_the_lines()
    assert PairTotal.objects.filter(product=product, trust=trust).exists()
    if connection.vendor != "postgresql":
        return  # SQLite has no unlogged tables
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'pricing_dirtypair'")
        assert cursor.fetchone()[0] == "u"


def test_a_rollup_row_is_keyed_by_its_period_product_and_trust_and_has_no_id():
    """Migration 0013: no id index for every write to feed; on PostgreSQL the key's index carries the
    columns a refresh reads, so that a refresh still reads the rollup from the index alone."""
    from django.db import connection

    trust = TrustFactory()
    product = ProductFactory()
    line(trust, product, packs="2", pack_price="3.50")
    year = Period.objects.get(kind="year")
    row = PairTotal.objects.get(pk=(year.pk, product.pk, trust.pk))
    assert (row.lines, row.units, row.spend) == (1, Decimal("2.000"), Decimal("7.0000000"))
    with connection.cursor() as cursor:
        columns = [
            column.name
            for column in connection.introspection.get_table_description(cursor, "pricing_pairtotal")
        ]
        constraints = connection.introspection.get_constraints(cursor, "pricing_pairtotal")
    assert "id" not in columns
    (key,) = [constraint for constraint in constraints.values() if constraint["primary_key"]]
    assert set(key["columns"]) - {"lines", "units_f", "spend_f", "ppu"} == {
        "period_id",
        "product_id",
        "trust_id",
    }
    # The key's order, which the refresh reads the rollup in, as each engine declares it.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = 'pricing_pairtotal'::regclass AND i.indisprimary"
            )
            declared = "(period_id, product_id, trust_id) INCLUDE (lines, units_f, spend_f, ppu)"
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'pricing_pairtotal'")
            declared = 'PRIMARY KEY ("period_id", "product_id", "trust_id")'
        assert declared in cursor.fetchone()[0]
