"""Purchase history and the summaries that price-variance analytics read.

Lines come from trusts' ERP exports and from received purchase orders. Each matched line counts
towards a `PairTotal` (one product, one trust, one period), kept up to date as lines arrive, so
that a refresh only recomputes the per-product centiles (`ProductStats`) and each trust's
possible savings (`TrustSavings`). The SQL that does it lives in pricing/sql/; docs/pricing.md
explains the method.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from catalogue.models import Product
from organisations.models import Organisation


class LineSource(models.TextChoices):
    ERP_IMPORT = "erp_import", "ERP import"
    PURCHASE_ORDER = "purchase_order", "Purchase order"


class PurchaseHistoryLine(models.Model):
    """One line of a trust's purchase order, as the trust recorded it."""

    # Indexed by the unique (trust, order, line) and (trust, order_date) indexes below.
    trust = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="purchase_lines", db_index=False
    )
    order_reference = models.CharField(max_length=50)
    line_number = models.PositiveIntegerField()
    order_date = models.DateField()
    supplier_name = models.CharField(max_length=200)
    gtin = models.CharField("GTIN", max_length=14, blank=True)
    npc = models.CharField("NPC code", max_length=10, blank=True)
    supplier_sku = models.CharField("supplier SKU", max_length=64, blank=True)
    manufacturer_part_number = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500)
    quantity_packs = models.DecimalField(max_digits=14, decimal_places=3)
    units_per_pack = models.PositiveIntegerField()
    pack_price = models.DecimalField(
        max_digits=14, decimal_places=4, help_text="GBP per pack, excluding VAT."
    )
    # Indexed by (product, trust) below.
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="purchase_lines",
        db_index=False,
    )
    source = models.CharField(max_length=20, choices=LineSource.choices, default=LineSource.ERP_IMPORT)
    import_job_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "order_reference", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["trust", "order_reference", "line_number"], name="purchase_line_unique_order_line"
            ),
            models.CheckConstraint(
                name="purchase_line_units_per_pack_positive", condition=Q(units_per_pack__gte=1)
            ),
            models.CheckConstraint(
                name="purchase_line_pack_price_not_negative", condition=Q(pack_price__gte=0)
            ),
            models.CheckConstraint(name="purchase_line_quantity_positive", condition=Q(quantity_packs__gt=0)),
            models.CheckConstraint(
                name="purchase_line_line_number_positive", condition=Q(line_number__gte=1)
            ),
            models.CheckConstraint(
                name="purchase_line_has_identifier",
                condition=~Q(gtin="") | ~Q(npc="") | ~Q(supplier_sku="") | ~Q(manufacturer_part_number=""),
            ),
            models.CheckConstraint(
                name="purchase_line_source_valid", condition=Q(source__in=[s.value for s in LineSource])
            ),
        ]
        indexes = [
            # A product's lines (a deleted product's, set unmatched) and a trust's lines of a product (what
            # it last paid). No more: the rollup is kept by difference and never reads lines through it,
            # and each new line takes a random leaf page of it, so the smaller (deduplicated) the better.
            models.Index(fields=["product", "trust"], name="pricing_line_product_trust"),
            models.Index(fields=["trust", "order_date"], name="pricing_line_trust_date"),
            models.Index(
                fields=["trust", "id"], name="pricing_line_unmatched", condition=Q(product__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_reference}/{self.line_number}: {self.description}"


class IdentifierKind(models.TextChoices):
    GTIN = "gtin", "GTIN"
    NPC = "npc", "NPC code"
    SUPPLIER_SKU = "supplier_sku", "Supplier SKU"
    MANUFACTURER_PART_NUMBER = "manufacturer_part_number", "Manufacturer part number"
    DESCRIPTION = "description", "Description"


class ProductMapping(models.Model):
    """A trust's remembered decision: lines carrying this identifier are this product."""

    trust = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="product_mappings")
    kind = models.CharField(max_length=30, choices=IdentifierKind.choices)
    # Normalised as the matcher compares it (GTIN 14 digits, codes upper case, text lower case).
    value = models.CharField(max_length=500)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trust_id", "kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["trust", "kind", "value"], name="product_mapping_unique_identifier"
            ),
            models.CheckConstraint(
                name="product_mapping_kind_valid", condition=Q(kind__in=[k.value for k in IdentifierKind])
            ),
            models.CheckConstraint(name="product_mapping_value_given", condition=~Q(value="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} → {self.product_id}"


class PeriodKind(models.TextChoices):
    YEAR = "year", "Financial year"
    QUARTER = "quarter", "Quarter"


class Period(models.Model):
    """A span of order dates the analytics are computed over: NHS financial year or calendar quarter."""

    kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="First day after the period.")
    # Set when the trusts' totals can no longer be adjusted by difference (the rollup was rebuilt, a
    # product was deleted, the totals predate the unrounded sums): the next refresh of the period sums
    # them afresh over every pair, then clears it.
    trust_totals_resum = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "starts_on"], name="period_unique_start"),
            models.CheckConstraint(name="period_ordered", condition=Q(ends_on__gt=models.F("starts_on"))),
            models.CheckConstraint(
                name="period_kind_valid", condition=Q(kind__in=[k.value for k in PeriodKind])
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def slug(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"fy{self.starts_on.year}"
        return f"{self.starts_on.year}q{(self.starts_on.month - 1) // 3 + 1}"

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"Financial year {self.starts_on.year}/{str(self.starts_on.year + 1)[2:]}"
        last = self.ends_on - dt.timedelta(days=1)
        return f"{self.starts_on:%b}–{last:%b %Y}"


class PairTotal(models.Model):
    """Rollup: what one trust bought of one product in one period. Maintained as lines arrive.

    This and the summary tables below are derived from the lines (which carry the foreign-key
    constraints) and rebuilt from them, so their own foreign keys are not checked by the database:
    deferred checks on millions of rollup rows would dominate every refresh.
    """

    # Keyed by (period, product, trust), with no id: an id index took a random page for each row a
    # write changes (migration 0013). Two indexes only, since every change to a row (a write of lines)
    # adds an entry to each: the key's serves look-ups by period and by period + product, and a
    # deleted product's rows (pricing.analytics.product_deleted deletes them through it, hence
    # DO_NOTHING: an index on the product alone took a random leaf page per changed row); (trust,
    # period) serves a trust's rows, by period or not (a deleted trust's cascade).
    pk = models.CompositePrimaryKey("period", "product", "trust")
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    lines = models.PositiveIntegerField()
    units = models.DecimalField(max_digits=24, decimal_places=3)
    spend = models.DecimalField(max_digits=24, decimal_places=7)
    # Double-precision copies for the refresh, made once when the row is written: PostgreSQL converts
    # numeric to double through text, and doing that per row at every refresh dominated its time.
    units_f = models.GeneratedField(
        expression=Cast("units", models.FloatField()), output_field=models.FloatField(), db_persist=True
    )
    spend_f = models.GeneratedField(
        expression=Cast("spend", models.FloatField()), output_field=models.FloatField(), db_persist=True
    )
    ppu = models.GeneratedField(
        expression=Cast("spend", models.FloatField()) / Cast("units", models.FloatField()),
        output_field=models.FloatField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(name="pair_total_units_positive", condition=Q(units__gt=0)),
        ]
        indexes = [models.Index(fields=["trust", "period"], name="pricing_pair_trust_period")]

    def __str__(self) -> str:
        return f"period {self.period_id}, product {self.product_id}, trust {self.trust_id}"


class DirtyPair(models.Model):
    """Scratch rows: what one write changes in the rollup, consumed in the same transaction.

    One row per (period, product, trust) and line counted or uncounted: the lines, units and spend to
    add to that rollup row, negative for a line the write replaced or moved away. pricing/sql/
    pair_totals_apply.sql sums them per key and adds them to the rollup (no line is read again).
    Unlogged on PostgreSQL (migration 0012): a crash empties the table, which loses nothing.
    """

    # Only the batch is looked up. The table is empty outside a write's transaction, so a cascade from a
    # deleted period, product or trust needs no index, and a write does not feed three more.
    batch = models.BigIntegerField(db_index=True)
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    # Defaults in the database too, so that code from before these columns (a rolling deploy) can still
    # write scratch rows; it recomputes the rollup rows from the lines and never reads these.
    lines = models.IntegerField(default=0, db_default=0)
    units = models.DecimalField(max_digits=24, decimal_places=3, default=0, db_default=0)
    spend = models.DecimalField(max_digits=24, decimal_places=7, default=0, db_default=0)

    def __str__(self) -> str:
        return (
            f"batch {self.batch}: period {self.period_id}, product {self.product_id}, trust {self.trust_id}"
        )


class PairSeen(models.Model):
    """A rollup row as the last refresh of its period counted it, kept when a write changes the row.

    Lets an incremental refresh adjust each trust's totals by difference: take out what the stale
    products contributed then, add what they contribute now. Empty units mean the row did not exist
    then. Written by pricing/sql/pair_totals_apply.sql (first change since the refresh wins), consumed
    by the refresh of the period.
    """

    # The unique index (period, product, trust) is the only one needed.
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    units = models.DecimalField(max_digits=24, decimal_places=3, null=True)
    spend = models.DecimalField(max_digits=24, decimal_places=7, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "product", "trust"], name="pair_seen_unique"),
        ]

    def __str__(self) -> str:
        return f"period {self.period_id}, product {self.product_id}, trust {self.trust_id}"


class StaleProduct(models.Model):
    """A product whose figures for a period changed since the last refresh."""

    # The unique index (period, product) is the only one: a write marks thousands of products, and an
    # index on the product alone took a random page for each. A deleted product's marks are deleted
    # through the unique index (pricing.analytics.product_deleted), hence DO_NOTHING.
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "product"], name="stale_product_unique")]

    def __str__(self) -> str:
        return f"period {self.period_id}, product {self.product_id}"


class ProductStats(models.Model):
    """Across trusts, for one product in one period: volumes, price-per-unit spread and savings."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    trusts = models.PositiveIntegerField()
    lines = models.PositiveIntegerField()
    units = models.DecimalField(max_digits=24, decimal_places=3)
    spend = models.DecimalField(max_digits=20, decimal_places=2)
    # Prices per unit as shown, rounded to four places.
    ppu_min = models.DecimalField(max_digits=18, decimal_places=4)
    ppu_p10 = models.DecimalField(max_digits=18, decimal_places=4)
    ppu_median = models.DecimalField(max_digits=18, decimal_places=4)
    ppu_p90 = models.DecimalField(max_digits=18, decimal_places=4)
    ppu_max = models.DecimalField(max_digits=18, decimal_places=4)
    spread = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, help_text="max / min; empty if min is 0"
    )
    cv = models.DecimalField(
        "coefficient of variation", max_digits=18, decimal_places=4, null=True, help_text="empty if mean is 0"
    )
    savings_target = models.DecimalField(max_digits=20, decimal_places=2)
    savings_median = models.DecimalField(max_digits=20, decimal_places=2)
    # The target (10th centile) and median as computed, to 12 places: savings are computed against
    # these, never against the four-place figures above, which are for display.
    target_ppu = models.DecimalField(max_digits=30, decimal_places=12)
    median_ppu = models.DecimalField(max_digits=30, decimal_places=12)
    refreshed_at = models.DateTimeField()
    # Double-precision copies of the targets, for the per-trust savings join (see PairTotal).
    target_f = models.GeneratedField(
        expression=Cast("target_ppu", models.FloatField()), output_field=models.FloatField(), db_persist=True
    )
    median_f = models.GeneratedField(
        expression=Cast("median_ppu", models.FloatField()), output_field=models.FloatField(), db_persist=True
    )
    # The figures as PostgreSQL's refresh computed them in double precision, before any rounding (empty
    # on SQLite, whose refresh computes in Decimal). Every stored figure is a function of these and of
    # trusts and lines, so a refresh that computes the same doubles again knows the row is unchanged
    # without converting its figures to numeric (which goes through text) or writing it.
    units_unrounded = models.FloatField(null=True)
    spend_unrounded = models.FloatField(null=True)
    ppu_min_unrounded = models.FloatField(null=True)
    ppu_max_unrounded = models.FloatField(null=True)
    p10_unrounded = models.FloatField(null=True)
    median_unrounded = models.FloatField(null=True)
    p90_unrounded = models.FloatField(null=True)
    cv_unrounded = models.FloatField(null=True)
    savings_target_unrounded = models.FloatField(null=True)
    savings_median_unrounded = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "product"], name="product_stats_unique"),
            models.CheckConstraint(
                name="product_stats_centiles_ordered",
                condition=Q(ppu_min__lte=models.F("ppu_p10"))
                & Q(ppu_p10__lte=models.F("ppu_median"))
                & Q(ppu_median__lte=models.F("ppu_p90"))
                & Q(ppu_p90__lte=models.F("ppu_max")),
            ),
        ]
        indexes = [models.Index(fields=["period", "-savings_target"], name="pricing_stats_savings")]

    def __str__(self) -> str:
        return f"period {self.period_id}, product {self.product_id}"


class TrustSavings(models.Model):
    """One trust's totals for one period: spend on matched products and possible savings."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    trust = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    products = models.PositiveIntegerField()
    spend = models.DecimalField(max_digits=20, decimal_places=2)
    savings_target = models.DecimalField(max_digits=20, decimal_places=2)
    savings_median = models.DecimalField(max_digits=20, decimal_places=2)
    # The same sums before rounding: an incremental refresh adjusts them by difference, and rounding
    # only the result keeps the stored figures equal to a full recomputation's.
    spend_unrounded = models.FloatField(default=0)
    savings_target_unrounded = models.FloatField(default=0)
    savings_median_unrounded = models.FloatField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "trust"], name="trust_savings_unique")]

    def __str__(self) -> str:
        return f"period {self.period_id}, trust {self.trust_id}"
