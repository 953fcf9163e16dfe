"""Categories, canonical products, suppliers' offers for them, and volume tiers.

A product is the canonical item (one anti-embolism stocking, thigh length, size M); an offer is
one supplier's terms for it. The price a buyer pays is computed by `catalogue.strategy`, never
stored: `pack_price` here is the supplier's list price excluding VAT.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Lower, Round

from common.money import money_field, unit_price_field
from organisations.models import Organisation, OrganisationKind

CATEGORY_SEPARATOR = " > "


class Category(models.Model):
    """A node in the category tree. `path` is the full name, e.g. 'Clinical consumables > Hosiery'."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=500, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    description = models.TextField(blank=True)
    # Attribute names products in this category describe themselves by (e.g. size, length).
    attribute_names = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.path

    def save(self, *args, **kwargs) -> None:
        if self.parent_id:
            self.path = f"{self.parent.path}{CATEGORY_SEPARATOR}{self.name}"
            self.depth = self.parent.depth + 1
        else:
            self.path = self.name
            self.depth = 0
        super().save(*args, **kwargs)


class Product(models.Model):
    """The canonical item that offers from different suppliers are matched to."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    manufacturer = models.CharField(max_length=200, blank=True)
    manufacturer_part_number = models.CharField(max_length=100, blank=True)
    # GTINs are stored as 14 digits (GTIN-8/12/13 left-padded with zeros) so that they match.
    gtin = models.CharField("GTIN", max_length=14, unique=True, null=True, blank=True)
    npc = models.CharField("NPC code", max_length=10, unique=True, null=True, blank=True)
    unit_of_measure = models.CharField(max_length=30, default="each")
    units_per_pack = models.PositiveIntegerField(default=1)
    attributes = models.JSONField(default=dict, blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("manufacturer"),
                "manufacturer_part_number",
                condition=~Q(manufacturer_part_number="") & ~Q(manufacturer=""),
                name="product_unique_manufacturer_part",
            ),
            models.CheckConstraint(
                name="product_units_per_pack_positive", condition=Q(units_per_pack__gte=1)
            ),
            models.CheckConstraint(
                name="product_gtin_14_digits", condition=Q(gtin__isnull=True) | Q(gtin__regex=r"^[0-9]{14}$")
            ),
        ]
        indexes = [models.Index(fields=["category", "is_active"])]

    def __str__(self) -> str:
        return self.name


class DecimalDivide(Func):
    """`a / b` as decimal division everywhere. SQLite stores a whole-pound price as an integer and
    would divide integers (3.00 / 100 = 0), so there the dividend is made real first; PostgreSQL
    divides numerics exactly."""

    arg_joiner = " / "
    template = "(%(expressions)s)"
    output_field = models.DecimalField(max_digits=24, decimal_places=8)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="(1.0 * %(expressions)s)", **extra_context)


class StockStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    LOW_STOCK = "low_stock", "Low stock"
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    MADE_TO_ORDER = "made_to_order", "Made to order"


class OfferStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending moderation"
    LIVE = "live", "Live"
    WITHDRAWN = "withdrawn", "Withdrawn"


class VatRate(models.TextChoices):
    ZERO = "0", "0%"
    REDUCED = "5", "5%"
    STANDARD = "20", "20%"


class Offer(models.Model):
    """One supplier's terms for one product."""

    supplier = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="offers",
        limit_choices_to={"kind": OrganisationKind.SUPPLIER},
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="offers")
    supplier_sku = models.CharField("supplier SKU", max_length=64)
    pack_price = money_field(help_text="GBP per pack, excluding VAT.")
    vat_rate = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("20"))
    units_per_pack = models.PositiveIntegerField(default=1)
    # Derived for sorting and filtering only; the price a buyer pays comes from catalogue.strategy.
    unit_price = models.GeneratedField(
        expression=Round(DecimalDivide(F("pack_price"), F("units_per_pack")), 4),
        output_field=unit_price_field(),
        db_persist=True,
    )
    lead_time_days = models.PositiveIntegerField(null=True, blank=True)
    min_order_packs = models.PositiveIntegerField(default=1)
    stock_status = models.CharField(max_length=20, choices=StockStatus.choices, default=StockStatus.IN_STOCK)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    patient_eligible = models.BooleanField(default=False)
    # `catalogue.selectors.buyable_offer_q` as stored by `catalogue.browse_data` in the transaction that
    # changes the offer, its product or its supplier (and by the daily beat task as dates pass), so
    # filtered lists read one indexed column instead of joining suppliers and products per offer.
    buyable = models.BooleanField(default=False, db_default=False, editable=False)
    status = models.CharField(
        max_length=20, choices=OfferStatus.choices, default=OfferStatus.DRAFT, db_index=True
    )
    # Changes to a live offer from an untrusted supplier wait here for moderation; the live terms stay.
    pending_changes = models.JSONField(null=True, blank=True)
    # The moderator's reason when they last turned down this offer or its changes; shown to the supplier.
    moderation_note = models.CharField(max_length=500, blank=True)
    # A digest of the offer's own terms and tiers as a file gives them (`catalogue.row_hashes`), kept
    # by every write: a re-upload recognises its unchanged rows by comparing it in one join. Empty:
    # not known, the row is compared the slow way.
    row_hash = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "pack_price", "id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "supplier_sku"], name="offer_unique_supplier_sku"),
            models.CheckConstraint(name="offer_pack_price_positive", condition=Q(pack_price__gt=0)),
            models.CheckConstraint(name="offer_vat_rate_valid", condition=Q(vat_rate__in=[0, 5, 20])),
            models.CheckConstraint(name="offer_units_per_pack_positive", condition=Q(units_per_pack__gte=1)),
            models.CheckConstraint(name="offer_min_order_positive", condition=Q(min_order_packs__gte=1)),
            models.CheckConstraint(
                name="offer_validity_ordered",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
            ),
        ]
        indexes = [
            models.Index(fields=["product", "status"]),
            models.Index(fields=["supplier", "status"]),
            # Filtered category pages and facets: a product's buyable offers, cheapest first, and a
            # supplier's buyable offers.
            models.Index(
                fields=["product", "unit_price"], condition=Q(buyable=True), name="offer_buyable_by_product"
            ),
            models.Index(
                fields=["supplier", "product"], condition=Q(buyable=True), name="offer_buyable_by_supplier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_sku}: {self.product} from {self.supplier}"


class VolumeTier(models.Model):
    """Buy at least `min_packs` packs and each pack costs `pack_price` (excluding VAT)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="tiers")
    min_packs = models.PositiveIntegerField()
    pack_price = money_field()

    class Meta:
        ordering = ["offer_id", "min_packs"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "min_packs"], name="tier_unique_min_packs"),
            models.CheckConstraint(name="tier_min_packs_above_one", condition=Q(min_packs__gte=2)),
            models.CheckConstraint(name="tier_pack_price_positive", condition=Q(pack_price__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.min_packs}+ packs at £{self.pack_price}"


LISTED = Q(offer_count__gt=0)
# Each stock state and the ProductBrowse column counting a product's buyable offers in it.
STOCK_COUNTS = {
    StockStatus.IN_STOCK: "in_stock_count",
    StockStatus.LOW_STOCK: "low_stock_count",
    StockStatus.OUT_OF_STOCK: "out_of_stock_count",
    StockStatus.MADE_TO_ORDER: "made_to_order_count",
}

# Each stock state and the BrowseFigures columns holding the lowest and highest unit price of a
# product's buyable offers in it: the stock facet under one price bound counts products from their
# rows ("an in-stock offer at most £X" is `in_stock_min_unit_price <= X`), no offer read.
STOCK_PRICES = {status: (f"{status}_min_unit_price", f"{status}_max_unit_price") for status in STOCK_COUNTS}


class BrowseFigures(models.Model):
    """What a list sorts, filters and counts a product by, over a set of its BUYABLE offers
    (`Offer.buyable`, i.e. `buyable_offer_q`): all of them (`ProductBrowse`) or those meeting one
    common offer filter (`ProductBrowseSubset`)."""

    # The category's path ('Wound care > Dressings'): a category page is this column equal to the
    # category's path or starting with it and ' > ' - an indexed range, no join, no recursion.
    category_path = models.CharField(max_length=500)
    name_key = models.CharField(max_length=200)  # lower(name), the name sort
    min_unit_price = unit_price_field(null=True)
    # The dearest offer per unit: "an offer at £X or more" is `max_unit_price >= X` (and "at £X or
    # less" `min_unit_price <= X`), so one price bound needs no offer read.
    max_unit_price = unit_price_field(null=True)
    min_lead_time_days = models.PositiveIntegerField(null=True)
    offer_count = models.PositiveIntegerField(default=0)
    supplier_count = models.PositiveIntegerField(default=0)
    in_stock_count = models.PositiveIntegerField(default=0)
    low_stock_count = models.PositiveIntegerField(default=0)
    out_of_stock_count = models.PositiveIntegerField(default=0)
    made_to_order_count = models.PositiveIntegerField(default=0)
    # STOCK_PRICES: per stock state, its offers' lowest and highest unit price (null: none in it).
    in_stock_min_unit_price = unit_price_field(null=True)
    in_stock_max_unit_price = unit_price_field(null=True)
    low_stock_min_unit_price = unit_price_field(null=True)
    low_stock_max_unit_price = unit_price_field(null=True)
    out_of_stock_min_unit_price = unit_price_field(null=True)
    out_of_stock_max_unit_price = unit_price_field(null=True)
    made_to_order_min_unit_price = unit_price_field(null=True)
    made_to_order_max_unit_price = unit_price_field(null=True)
    patient_eligible = models.BooleanField(default=False)
    supplier_ids = models.JSONField(default=list)  # the suppliers of its buyable offers (facets)

    STOCK_COUNTS = STOCK_COUNTS

    class Meta:
        abstract = True

    @property
    def stock_statuses(self) -> list[str]:
        return [status for status, name in self.STOCK_COUNTS.items() if getattr(self, name)]


class ProductBrowse(BrowseFigures):
    """What buyers browse a product by, kept as data (one row per product) by `catalogue.browse_data`
    in the same transaction as every change to its offers, the product, its suppliers or its category.

    Everything here is over the product's BUYABLE offers (`Offer.buyable`, i.e. `buyable_offer_q`).
    A product with none (or an inactive product) has `offer_count` 0 and is not listed. A separate
    table rather than columns on Product: the numbers change with every offer write, and Product's
    `updated_at` (part of the search document's version) and its row stay the supplier's own.
    """

    product = models.OneToOneField(Product, primary_key=True, on_delete=models.CASCADE, related_name="browse")

    class Meta:
        # Listed rows only (partial). On PostgreSQL each index also carries (INCLUDE) what its readers
        # need, so sorts, counts and facets over a category are index-only scans: the table's rows are
        # in product order, every page holding every category, and would all be read otherwise.
        indexes = [
            # Each sort of the whole list (GET /api/v1/products/), and of a category with descendants
            # (the category path is checked in the index as it is walked in order). Each carries every
            # figure a list reads, so a far page skips its offset without reading the table.
            models.Index(
                fields=["min_unit_price", "name_key", "product"],
                condition=LISTED,
                include=["category_path", "min_lead_time_days", "offer_count"],
                name="browse_by_price",
            ),
            models.Index(
                fields=["name_key", "product"],
                condition=LISTED,
                include=["category_path", "min_unit_price", "min_lead_time_days", "offer_count"],
                name="browse_by_name",
            ),
            models.Index(
                fields=["min_lead_time_days", "min_unit_price", "product"],
                condition=LISTED,
                include=["category_path", "name_key", "offer_count"],
                name="browse_by_lead_time",
            ),
            # A leaf category (its path alone, `in_category_q`) in price and in name order.
            models.Index(
                fields=["category_path", "min_unit_price", "name_key", "product"],
                condition=LISTED,
                include=["min_lead_time_days", "offer_count"],
                name="browse_category_by_price",
            ),
            models.Index(
                fields=["category_path", "name_key", "product"],
                condition=LISTED,
                include=["min_unit_price", "min_lead_time_days", "offer_count"],
                name="browse_category_by_name",
            ),
            # A category with its descendants: a prefix range (pattern ops, so LIKE 'path > %' is a range
            # in any collation), with every column a count over it reads (not the suppliers' ids: only
            # the facet counts' upkeep reads them, by product, and they would treble the index).
            models.Index(
                fields=["category_path"],
                opclasses=["varchar_pattern_ops"],
                condition=LISTED,
                include=[
                    "product",
                    *STOCK_COUNTS.values(),
                    "patient_eligible",
                    "min_unit_price",
                    "max_unit_price",
                    "min_lead_time_days",
                    *(column for pair in STOCK_PRICES.values() for column in pair),
                ],
                name="browse_category_prefix",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.offer_count} offers from {self.min_unit_price}"


class ProductBrowseSubset(BrowseFigures):
    """A product's browse figures over the buyable offers that meet one common filter on their own
    (`SUBSETS`: patient eligible; in stock), one row per product with at least one such offer, kept
    with `ProductBrowse` in the same transaction. A list or a facet count filtered by just that (and at
    most one price or lead-time bound) reads these rows and `CategoryFacetCount`'s rows for the subset
    instead of the offers: "patient eligible" over a top-level category is then a range of rows in
    price order, not 100,000 offers grouped by product."""

    PATIENT = "patient"
    IN_STOCK = "in_stock"
    # Each subset and the offers in it (field lookups on Offer).
    SUBSETS: dict[str, dict] = {
        PATIENT: {"patient_eligible": True},
        IN_STOCK: {"stock_status": StockStatus.IN_STOCK},
    }

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="browse_subsets")
    subset = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "subset"], name="browse_subset_unique_product"),
        ]
        # As ProductBrowse's, each led by the subset (only rows with an offer are kept).
        indexes = [
            models.Index(
                fields=["subset", "min_unit_price", "name_key", "product"],
                include=["category_path", "max_unit_price", "min_lead_time_days", "offer_count"],
                name="browse_subset_by_price",
            ),
            models.Index(
                fields=["subset", "name_key", "product"],
                include=[
                    "category_path",
                    "min_unit_price",
                    "max_unit_price",
                    "min_lead_time_days",
                    "offer_count",
                ],
                name="browse_subset_by_name",
            ),
            models.Index(
                fields=["subset", "min_lead_time_days", "min_unit_price", "product"],
                include=["category_path", "name_key", "max_unit_price", "offer_count"],
                name="browse_subset_by_lead_time",
            ),
            models.Index(
                fields=["subset", "category_path"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                include=[
                    "product",
                    "min_unit_price",
                    "max_unit_price",
                    "min_lead_time_days",
                    *(column for pair in STOCK_PRICES.values() for column in pair),
                ],
                name="browse_subset_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ({self.subset}): {self.offer_count} offers from {self.min_unit_price}"


class OfferBrowse(models.Model):
    """One BUYABLE offer (`Offer.buyable`) as lists and facets filter it, with its product's category
    path: kept by `catalogue.browse_data` with `ProductBrowse`, in the same transaction (the product's
    rows deleted and inserted again from its offers).

    A filter the per-product rows cannot answer (a supplier; two price or lead-time bounds; any offer
    filter under the facets' counts) groups these rows by product, so every condition still applies to
    the SAME offer: a supplier's rows in a category are one range of an index, any other combination
    over a category one range of another, both answered from the index alone on PostgreSQL (every
    column a filter, a sort or a count reads is carried), never the offers joined to the products'
    rows. A page's products are found in these rows first (grouped, sorted, the page's slice), then
    only that page's products are joined.

    The offer and the supplier are keys without a database constraint: the rows are derived, every
    one rewritten with its product's, and a constraint would check each of a bulk import's rows twice.
    """

    offer = models.OneToOneField(
        Offer,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="browse_row",
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="offer_rows", db_index=False)
    supplier = models.ForeignKey(
        Organisation, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    category_path = models.CharField(max_length=500)  # the product's category's, as ProductBrowse's
    name_key = models.CharField(max_length=200)  # lower(the product's name): a page's keys in name order
    unit_price = unit_price_field()
    pack_price = money_field()
    lead_time_days = models.PositiveIntegerField(null=True)
    stock_status = models.CharField(max_length=20, choices=StockStatus.choices)
    patient_eligible = models.BooleanField(default=False)
    # The only buyable offer of its product from its supplier (most are): a supplier facet counts
    # these rows as they come and needs distinct products only among the others.
    only_of_supplier = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # Every row in a known state: a list naming all of them (no stock filter) misses none.
            models.CheckConstraint(
                name="offer_browse_stock_status_known", condition=Q(stock_status__in=StockStatus.values)
            ),
        ]
        indexes = [
            # A product's rows, rewritten with it.
            models.Index(fields=["product"], name="offer_browse_product"),
            # One or more suppliers' rows in a category's subtree (pattern ops: the path's prefix is a
            # range in any collation), or all of theirs.
            models.Index(
                fields=["supplier", "category_path"],
                opclasses=["int8_ops", "varchar_pattern_ops"],
                include=[
                    "product",
                    "name_key",
                    "unit_price",
                    "pack_price",
                    "lead_time_days",
                    "stock_status",
                    "patient_eligible",
                    "only_of_supplier",
                ],
                name="offer_browse_supplier",
            ),
            # Any other combination of offer filters over a category's subtree: each of its paths and
            # stock states (`selectors.offers_listed_in` names both), so a unit price bound is a range
            # of each (path, state)'s rows, not a filter on all of them (under "in stock at most £5",
            # a quarter of a top-level category's rows are read, not all).
            models.Index(
                fields=["category_path", "stock_status", "unit_price"],
                opclasses=["varchar_pattern_ops", "varchar_ops", "numeric_ops"],
                include=[
                    "product",
                    "supplier",
                    "name_key",
                    "pack_price",
                    "lead_time_days",
                    "patient_eligible",
                    "only_of_supplier",
                ],
                name="offer_browse_category",
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.offer_id} of {self.product_id} from {self.supplier_id} at {self.unit_price}"


class CategoryFacetCount(models.Model):
    """How many listed products one category holds directly (not its descendants'), in total and by
    facet value, over all buyable offers and over each `ProductBrowseSubset` subset (its facets named
    "patient:listed", "patient:supplier"...): a category page's unfiltered counts are the sum of its
    subtree's rows (at most a few thousand, whatever the number of products). Kept by
    `catalogue.browse_data` with the browse rows: each refresh adds the difference between the
    products' rows before and after."""

    LISTED, STOCK, PATIENT, SUPPLIER = "listed", "stock", "patient", "supplier"

    category_path = models.CharField(max_length=500)
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=40, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category_path", "facet", "value"], name="category_facet_unique")
        ]
        indexes = [
            # A page reads a few facets (those of its filters' subsets) of a category's subtree: each
            # facet a range of this index, not every facet's rows.
            models.Index(
                fields=["facet", "category_path"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                include=["value", "count"],
                name="category_facet_by_facet",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category_path} {self.facet}={self.value}: {self.count}"

    @staticmethod
    def named(subset: str, facet: str) -> str:
        """A facet's name for a `ProductBrowseSubset` subset's rows ("" for every listed product):
        "supplier", "patient:supplier"."""
        return f"{subset}:{facet}" if subset else facet
