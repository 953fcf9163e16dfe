"""Read-only queries of the catalogue, shaped for the pages and the API.

Every query here loads what its page needs in a constant number of SQL statements (no N+1):
offers come with their supplier (select_related) and tiers (prefetch_related). Prices a buyer
pays are not computed here; `catalogue.strategy` computes them from the offers loaded here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Cast
from django.utils import timezone

from catalogue.models import (
    CATEGORY_SEPARATOR,
    STOCK_COUNTS,
    STOCK_PRICES,
    Category,
    CategoryFacetCount,
    Offer,
    OfferBrowse,
    OfferStatus,
    Product,
    ProductBrowse,
    ProductBrowseSubset,
    StockStatus,
    VolumeTier,
)
from catalogue.types import OfferInput
from common.concurrent_reads import Pending, Statement, read_beside, read_beside_then
from common.errors import NotFound
from organisations.models import Organisation, User
from organisations.permissions import suppliers_for

if TYPE_CHECKING:
    from catalogue.filters import ProductFilter

# The filter vocabulary's names (catalogue.filters) for the facets each leaves out.
STOCK = "stock"
PATIENT_ELIGIBLE = "patient_eligible"


def category_key(path: str) -> str:
    """A path as typed, made comparable: 'clinical consumables >hosiery' finds 'Clinical ... > Hosiery'."""
    return CATEGORY_SEPARATOR.join(part.strip() for part in path.split(">")).casefold()


def category_paths() -> dict[str, int]:
    """Every category's id by its `category_key` (the tree is small: one query)."""
    return {category_key(path): pk for path, pk in Category.objects.values_list("path", "id")}


def buyable_offer_q(*, prefix: str = "", today: dt.date | None = None) -> Q:
    """The one rule for what can be bought: an offer that is live, within its validity dates, from an
    active supplier, of an active product. Pages, search indexing, search results, the strategy and the
    API all ask this (`prefix` reaches it from another model: "offers__" from a product)."""
    today = today or timezone.localdate()
    p = prefix
    return (
        Q(**{f"{p}status": OfferStatus.LIVE, f"{p}supplier__is_active": True, f"{p}product__is_active": True})
        & (Q(**{f"{p}valid_from__isnull": True}) | Q(**{f"{p}valid_from__lte": today}))
        & (Q(**{f"{p}valid_to__isnull": True}) | Q(**{f"{p}valid_to__gte": today}))
    )


def unbuyable_reasons(*, offer: Offer, today: dt.date) -> tuple[str, ...]:
    """Why an offer already loaded fails `buyable_offer_q`, in words for the buyer (empty when it is
    buyable). The same four conditions, read from the object so that pricing a page costs no query;
    tests/catalogue/test_buyable.py holds the two to each other."""
    reasons = []
    if offer.status != OfferStatus.LIVE:
        reasons.append("This offer is not on sale.")
    if offer.valid_from and today < offer.valid_from:
        reasons.append(f"This price starts on {_day(offer.valid_from)}.")
    if offer.valid_to and today > offer.valid_to:
        reasons.append(f"This price ended on {_day(offer.valid_to)}.")
    if not offer.supplier.is_active:
        reasons.append("This supplier no longer sells on the marketplace.")
    if not offer.product.is_active:
        reasons.append("This product is no longer in the catalogue.")
    return tuple(reasons)


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"


def buyable_offers(*, today: dt.date | None = None) -> QuerySet[Offer]:
    return Offer.objects.filter(buyable_offer_q(today=today))


def listed_offers() -> QuerySet[Offer]:
    """The offers lists and facets read: `buyable_offer_q` as stored in `Offer.buyable` (one indexed
    column; `catalogue.browse_data` keeps it, and the daily beat task moves it as dates pass)."""
    return Offer.objects.filter(buyable=True)


def products_with_offers_changing_date(*, today: dt.date | None = None, days: int = 7) -> list[int]:
    """Products with an offer that started or ended in the last `days` days: their search documents
    change without anything being saved (the daily beat task reindexes them)."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days)
    return list(
        Offer.objects.filter(
            Q(valid_to__lt=today, valid_to__gte=since) | Q(valid_from__lte=today, valid_from__gt=since)
        )
        .values_list("product_id", flat=True)
        .distinct()
    )


def supplier_product_ids(*, supplier_id: int) -> list[int]:
    """Every product a supplier has an offer of (whatever the offer's state)."""
    return list(Offer.objects.filter(supplier_id=supplier_id).values_list("product_id", flat=True).distinct())


def in_category_q(category: Category, *, prefix: str = "category__") -> Q:
    """The category and all its descendants, by path prefix (one indexed range, no recursion): the
    paths starting with the category's (the range an index walks; a sibling "Gloves (latex)" of
    "Gloves" is in it), of which the category's own and those below it (checked on the index entry,
    so a covering index answers alone). A category loaded by `categories_with_children_known` with no
    children is its path alone: one equality, which an index on (path, sort) walks in sort order."""
    if getattr(category, "has_children", True) is False:
        return Q(**{f"{prefix}path": category.path})
    return Q(**{f"{prefix}path__startswith": category.path}) & (
        Q(**{f"{prefix}path": category.path})
        | Q(**{f"{prefix}path__startswith": category.path + CATEGORY_SEPARATOR})
    )


# Categories ---------------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    product_count: int
    children: list[CategoryNode] = field(default_factory=list)


def category_tree(*, today: dt.date | None = None) -> list[CategoryNode]:
    """The whole tree with the number of buyable products under each node (descendants included).

    Two queries: the categories, and product counts per category.
    """
    categories = list(Category.objects.order_by("path"))
    direct = dict(
        buyable_products(today=today)
        .values("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    nodes = {c.id: CategoryNode(c, 0) for c in categories}
    roots: list[CategoryNode] = []
    for c in categories:  # ordered by path, so parents come before children
        node = nodes[c.id]
        if c.parent_id in nodes:
            nodes[c.parent_id].children.append(node)
        else:
            roots.append(node)
    # Add each category's own products to it and to each ancestor.
    by_path = {c.path: nodes[c.id] for c in categories}
    for c in categories:
        count = direct.get(c.id, 0)
        if not count:
            continue
        parts = c.path.split(CATEGORY_SEPARATOR)
        for i in range(1, len(parts) + 1):
            ancestor = by_path.get(CATEGORY_SEPARATOR.join(parts[:i]))
            if ancestor is not None:
                ancestor.product_count += count
    return roots


def categories_with_children_known(categories: QuerySet[Category]) -> QuerySet[Category]:
    """These categories, each with `has_children` (in the same query), for `in_category_q`."""
    return categories.annotate(has_children=Exists(Category.objects.filter(parent=OuterRef("pk"))))


def category_by_slug(*, slug: str) -> Category:
    category = (
        categories_with_children_known(Category.objects.select_related("parent")).filter(slug=slug).first()
    )
    if category is None:
        raise NotFound("No such category.", field="slug")
    return category


def category_ancestors(*, category: Category) -> list[Category]:
    """Root first, the category itself excluded (for breadcrumbs). One query."""
    parts = category.path.split(CATEGORY_SEPARATOR)
    paths = [CATEGORY_SEPARATOR.join(parts[:i]) for i in range(1, len(parts))]
    if not paths:
        return []
    return list(Category.objects.filter(path__in=paths).order_by("depth"))


def category_children(*, category: Category | None) -> QuerySet[Category]:
    if category is None:
        return Category.objects.filter(parent__isnull=True).order_by("name")
    return Category.objects.filter(parent=category).order_by("name")


# Products for buyers ------------------------------------------------------------------------------


def buyable_products(*, today: dt.date | None = None) -> QuerySet[Product]:
    """Active products with at least one live offer."""
    return Product.objects.filter(is_active=True).filter(
        Exists(buyable_offers(today=today).filter(product=OuterRef("pk")))
    )


# Where a listing's offers keep their prefetched tiers: a plain list (`Prefetch(to_attr=...)`), which
# the strategy reads (`catalogue.strategy.offer_tiers`). Prefetching into `offer.tiers.all()` instead
# builds a related manager and a queryset per offer (a few ms for a page of 100 offers) and pickles
# that queryset with every offer kept in the shared cache.
TIERS_ATTR = "tier_list"


def tiers_prefetch() -> Prefetch:
    """An offer's volume tiers, lowest minimum first, as a list on `TIERS_ATTR`."""
    return Prefetch("tiers", queryset=VolumeTier.objects.order_by("min_packs"), to_attr=TIERS_ATTR)


# What a listing (a category page, a products API page, a product page's offers) never reads of the
# products, categories, offers and suppliers it loads: long texts, JSON and timestamps, left in the
# database rather than parsed, built and pickled into the shared cache for every page.
LISTED_PRODUCT_UNREAD = ("description", "attributes", "created_at", "updated_at")
LISTED_CATEGORY_UNREAD = ("description", "attribute_names")
LISTED_OFFER_UNREAD = ("pending_changes", "moderation_note", "row_hash", "created_at", "updated_at")
LISTED_SUPPLIER_UNREAD = (
    "legal_name",
    "companies_house_number",
    "vat_number",
    "ods_code",
    "region",
    "is_trusted_supplier",
    "share_prices_by_name",
    "created_at",
)


def listed_offers_with_prices(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    """`offers` with what pricing them reads: the supplier and the tiers (`tiers_prefetch`), without
    the columns no listing shows."""
    return (
        offers.select_related("supplier")
        .defer(*LISTED_OFFER_UNREAD, *(f"supplier__{name}" for name in LISTED_SUPPLIER_UNREAD))
        .prefetch_related(tiers_prefetch())
    )


def live_offers_prefetch(*, to_attr: str = "live_offers", today: dt.date | None = None) -> Prefetch:
    """Each product's live offers with supplier and tiers: two queries for any number of products."""
    offers = listed_offers_with_prices(buyable_offers(today=today))
    return Prefetch("offers", queryset=offers, to_attr=to_attr)


def _product_filter(filters: Mapping | ProductFilter | None, *, category: Category | None) -> ProductFilter:
    """The buyer's filters, parsed and checked once (a page passes the ProductFilter it built for its
    form, so list, facets and form share one). Raises `InvalidFilters` naming each parameter that does
    not parse."""
    from catalogue.filters import InvalidFilters, ProductFilter  # filters import this module

    if isinstance(filters, ProductFilter):
        product_filter = filters
    else:
        product_filter = ProductFilter(filters or {}, queryset=Product.objects.all(), category=category)
    if not product_filter.is_valid():
        raise InvalidFilters(
            {name: [str(e) for e in errors] for name, errors in product_filter.errors.items()}
        )
    return product_filter


def product_list(
    *, filters: Mapping | ProductFilter | None = None, category: Category | None = None
) -> QuerySet[Product]:
    """Listed products matching the buyer's filters (see catalogue.filters.ProductFilter) in `category`
    (the page's, already loaded) if given, sorted.

    Each product carries `offer_count`, `min_unit_price` and `min_lead_time_days` over its matching
    buyable offers (its stored browse data when no offer filter is chosen), and those offers
    (`live_offers`, with supplier and tiers) for the strategy to price. Raises `InvalidFilters`.
    """
    product_filter = _product_filter(filters, category=category)
    products = product_filter.qs
    # Show each product's matching offers only (e.g. only supplier A's when filtered by A).
    products = (
        products.select_related("category")
        .defer(*LISTED_PRODUCT_UNREAD, *(f"category__{name}" for name in LISTED_CATEGORY_UNREAD))
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=listed_offers_with_prices(product_filter.matching_offers),
                to_attr="live_offers",
            )
        )
    )
    # For `catalogue.browse.paging.CountedPaginator`: the same list as browse rows alone (when stored
    # rows answer the filters), so a far page skips its offset in an index, then joins its products.
    products.page_keys = product_filter.page_keys
    products.page_keys_near = product_filter.page_keys_near
    return products


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class ProductFacets:
    categories: list[FacetValue]
    suppliers: list[FacetValue]
    stock_statuses: list[FacetValue]
    patient_eligible: int
    total: int


@dataclass(frozen=True)
class StoredRows:
    """The stored browse rows that answer a product filter (`ProductFilter.stored_rows`): every
    listed product's (`subset` "") or one `ProductBrowseSubset` subset's, in these categories, with at
    most one condition on their figures (`bound`: a lookup and its value)."""

    subset: str
    categories: list[Category]
    bound: tuple[str, object] | None = None

    def facet(self, facet: str) -> str:
        return CategoryFacetCount.named(self.subset, facet)


def listed_in(
    categories: list[Category],
    *,
    subset: str = "",
    bound: tuple[str, object] | None = None,
    in_order: bool = False,
) -> QuerySet:
    """The listed products' browse rows (or those of a subset) in every one of these categories
    (with descendants), meeting `bound` if given.

    The categories are named by their subtrees' paths: each path one index range with nothing left
    to check on its entries (a prefix range checks every entry's path twice), what counts and
    groupings read. `in_order`: by the path prefix instead, the one range that the sorted indexes
    walk in their order (a page of rows)."""
    if subset:
        rows = ProductBrowseSubset.objects.filter(subset=subset)
    else:
        rows = ProductBrowse.objects.filter(offer_count__gt=0)
    for chosen in categories:
        if in_order:
            rows = rows.filter(in_category_q(chosen, prefix="category_"))
        else:
            rows = rows.filter(category_path__in=category_subtree_paths(chosen))
    if bound is not None:
        rows = rows.filter(**{bound[0]: bound[1]})
    return rows


def category_subtree_paths(category: Category) -> list[str]:
    """The paths of the category and of every category below it, read once per loaded category (a
    page's facet counts ask several times). A category known to have no children is its path."""
    paths = getattr(category, "_subtree_paths", None)
    if paths is None:
        if getattr(category, "has_children", True) is False:
            paths = [category.path]
        else:
            paths = list(
                Category.objects.filter(in_category_q(category, prefix=""))
                .order_by("path")
                .values_list("path", flat=True)
            )
        category._subtree_paths = paths
    return paths


def offers_listed_in(categories: list[Category], conditions: Q) -> QuerySet[OfferBrowse]:
    """The browse rows of the buyable offers meeting `conditions` (on an offer's own fields) of the
    products in these categories (`OfferBrowse`, which carries the category path): ranges of one of
    its covering indexes (a supplier's rows in the category, or the category's), no offer, product or
    per-product row read. Group them by product to count products: each row is ONE offer, so every
    condition holds of the same offer.

    The categories are named by their subtrees' paths, not a prefix range, and the stock states by
    the chosen ones or all: the category index is keyed on (path, state, unit price), so under a
    price bound each (path, state)'s rows are one range of the matching offers only (PostgreSQL walks
    one range each), where a prefix range would read every offer of the subtree and filter."""
    rows = OfferBrowse.objects.filter(conditions)
    for chosen in categories:
        rows = rows.filter(category_path__in=category_subtree_paths(chosen))
    if categories and not _names_field(conditions, "stock_status"):
        # Every state (a constraint keeps rows to them): the index's next key, so a price bound
        # after it is still a range of each (path, state).
        rows = rows.filter(stock_status__in=StockStatus.values)
    return rows


def _names_field(conditions: Q, name: str) -> bool:
    """Whether any lookup in `conditions` is on the field `name`."""
    return any(
        _names_field(child, name) if isinstance(child, Q) else child[0].split(LOOKUP_SEP)[0] == name
        for child in conditions.children
    )


# The price bounds of stored rows (`ProductFilter.stored_rows`) and, for a stock state, the column of
# its offers' prices each reads: at most £X needs the state's lowest, at least £X its highest.
PRICE_BOUNDS = {"min_unit_price__lte": 0, "max_unit_price__gte": 1}


def state_price_lookup(state: str, bound_lookup: str) -> str:
    """A stored rows' price bound (a key of PRICE_BOUNDS) as the same bound on the prices of the
    offers in one stock state ("min_unit_price__lte" for in stock: "in_stock_min_unit_price__lte")."""
    column = STOCK_PRICES[state][PRICE_BOUNDS[bound_lookup]]
    return f"{column}{LOOKUP_SEP}{bound_lookup.rsplit(LOOKUP_SEP, 1)[1]}"


# In `stock_counts_by_path`'s counts: the products with an offer in any state meeting the bound; and
# all the rows' products, meeting it or not.
ANY_STATE = ""
ALL_ROWS = "*"


# {category path: {stock state (or ANY_STATE, ALL_ROWS): products}}: the stock pass's counts.
StatesByPath = dict[str, dict[str, int]]


def _stock_counts_statement(
    rows: StoredRows, bound: tuple[str, object], *, all_rows: bool = False
) -> tuple[Statement, Callable[[list[tuple]], StatesByPath]]:
    """The stock pass: {category path: {stock state: products with an offer in that state meeting
    the price `bound`}} over these stored rows (every listed product's, or a subset's, in their
    categories; their own bound not applied), from each state's lowest or highest price, and under
    ANY_STATE those with any offer meeting it (every offer's lowest or highest price), and
    (`all_rows`) under ALL_ROWS all their products: one grouped aggregate over the categories' rows
    (index ranges), no offer read. The statement, and what turns its rows into the counts."""
    lookup, value = bound
    per_state = {
        str(status): Count("product", filter=Q(**{state_price_lookup(status, lookup): value}))
        for status in STOCK_PRICES
    }
    per_state[ANY_STATE] = Count("product", filter=Q(**{lookup: value}))
    if all_rows:
        per_state[ALL_ROWS] = Count("product")
    states = list(per_state)
    columns = [f"state_{n}" for n in range(len(states))]
    rows_per_path = (
        listed_in(rows.categories, subset=rows.subset)
        .order_by()
        .values("category_path")
        .annotate(**dict(zip(columns, per_state.values(), strict=True)))
        .values_list("category_path", *columns)
    )

    def states_by_path(found: list[tuple]) -> StatesByPath:
        return {
            path: {state: n for state, n in zip(states, counts, strict=True) if n} for path, *counts in found
        }

    return rows_per_path.query.sql_with_params(), states_by_path


# {supplier id: (name, products)}: a supplier facet's values.
NamedCounts = dict[int, tuple[str, int]]


def products_per_supplier_statement(rows: QuerySet[OfferBrowse]) -> Statement:
    """{supplier id: (name, products)} over these offer rows (`_named_supplier_counts` reads its rows),
    without counting distinct products: a row that is its supplier's only buyable offer of the
    product (`OfferBrowse.only_of_supplier`) counts once as it is; only the other rows are grouped by
    product too. One statement, two hash groupings, instead of sorting every row by supplier and
    product; `product_facets_started` reads it beside the request."""
    sql, params = _products_per_supplier_sql(rows)
    return _named(sql), params


def products_per_supplier_within_bound_statement(
    unbounded: QuerySet[CategoryFacetCount], missing: QuerySet[OfferBrowse], meeting: Q
) -> Statement:
    """{supplier id: (name, products)} under a price bound, as the products per supplier without it
    (the stored counts `unbounded`: one facet's rows over the categories) less those whose every
    offer of the supplier misses the bound: counted over the offer rows `missing` it (with the other
    filters), where a row among several of its supplier's offers of the product counts only when none of them
    meets the bound (`meeting`: the other filters and the bound; the product's few rows looked up).
    Under a bound most offers meet, far fewer rows than `products_per_supplier_statement` over those
    meeting it. One statement (the stored counts and the rows in one snapshot), each supplier's name
    joined."""
    meeting_of_same = OfferBrowse.objects.filter(
        meeting, product_id=OuterRef("product_id"), supplier_id=OuterRef("supplier_id")
    )
    missing_sql, missing_params = _products_per_supplier_sql(
        missing.filter(Q(only_of_supplier=True) | ~Exists(meeting_of_same))
    )
    stored_sql, stored_params = (
        unbounded.order_by()
        .values(supplier=Cast("value", BigIntegerField()))
        .annotate(n=Sum("count"))
        .values_list("supplier", "n")
        .query.sql_with_params()
    )
    # SQL Django compiled (values stay parameters) under a fixed outer grouping.
    return (
        _named(
            "SELECT per_supplier.supplier AS supplier, SUM(per_supplier.n) AS n FROM "  # noqa: S608
            f"({stored_sql} UNION ALL SELECT missing.supplier, -missing.n FROM ({missing_sql}) missing) "
            "per_supplier GROUP BY per_supplier.supplier HAVING SUM(per_supplier.n) > 0"
        ),
        (*stored_params, *missing_params),
    )


def products_counted(rows: QuerySet, *, several_per_product: bool) -> Callable[[], int]:
    """How many products these rows name (offers' browse rows: `several_per_product`; products' rows
    are one each): counted when first asked, on the caller's connection."""
    rows = rows.order_by().values("product_id")
    return functools.cache((rows.distinct() if several_per_product else rows).count)


def products_counted_beside(rows: QuerySet, *, several_per_product: bool) -> Callable[[], int]:
    """`products_counted`, read beside the caller at once (`common.concurrent_reads`): the result
    waits for it."""
    rows = rows.order_by().values("product_id")
    sql, params = (rows.distinct() if several_per_product else rows).query.sql_with_params()
    return read_beside(
        f"SELECT COUNT(*) FROM ({sql}) counted",  # noqa: S608 - SQL Django compiled, values as parameters
        params,
        lambda counted: int(counted[0][0]),
    ).result


def _products_per_supplier_sql(rows: QuerySet[OfferBrowse]) -> tuple[str, tuple]:
    """`products_per_supplier`'s statement: (supplier, n) per supplier."""
    shared = rows.order_by().values(
        "supplier_id", shared_product=Case(When(only_of_supplier=False, then=F("product_id")))
    )
    # COUNT(*): a column the covering indexes do not carry (the key) would read the table.
    sql, params = shared.annotate(n=Count("*")).query.sql_with_params()
    # SQL Django compiled (values stay parameters) under a fixed outer grouping.
    return (
        "SELECT counted.supplier_id AS supplier, SUM(CASE WHEN counted.shared_product IS NULL "  # noqa: S608
        f"THEN counted.n ELSE 1 END) AS n FROM ({sql}) counted GROUP BY counted.supplier_id",
        tuple(params),
    )


def _named(counts_sql: str) -> str:
    """A statement of (supplier, n) rows with each supplier's name joined: the facet's labels come
    with its counts, beside the request, not in a statement of the request's own after them."""
    organisations = connection.ops.quote_name(Organisation._meta.db_table)
    return (
        f"SELECT supplier.id, supplier.name, counted.n FROM ({counts_sql}) counted "  # noqa: S608
        f"JOIN {organisations} supplier ON supplier.id = counted.supplier"
    )


def _named_supplier_counts(rows: list[tuple]) -> NamedCounts:
    return {int(supplier): (name, int(n)) for supplier, name, n in rows}


# Under a price bound the products meeting it make more than this share of a category's products
# (the stock pass counts both): its supplier facet counts the offer rows missing the bound instead.
SUPPLIER_COUNT_MISSING_SHARE = 0.5


def stored_facet_rows(categories: list[Category], *facets: str) -> QuerySet[CategoryFacetCount]:
    """The stored counts of these facets (names as stored) over the categories' subtrees (all of
    them when none is given): each facet a range of one index."""
    rows = CategoryFacetCount.objects.filter(count__gt=0, facet__in=facets)
    for chosen in categories:
        rows = rows.filter(in_category_q(chosen, prefix="category_"))
    return rows


def category_facet_counts(
    categories: list[Category], facets: list[str]
) -> dict[tuple[str, str], dict[str, int]]:
    """{(facet, value): {category path: listed products}} of these facets (names as stored, e.g.
    "supplier", "patient:listed") over the categories' subtrees (all of them when none is given), read
    from `CategoryFacetCount`: one query over at most a few thousand rows whatever the number of
    products (no product or offer is read). Only the listed counts are kept per category path (the
    sub-category facet); the others are summed by the database, under the path ""."""
    rows = stored_facet_rows(categories, *facets)
    per_path = Case(
        When(facet__endswith=CategoryFacetCount.LISTED, then=F("category_path")), default=Value("")
    )
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for path, facet, value, n in (
        rows.order_by()
        .values("facet", "value", path=per_path)
        .annotate(n=Sum("count"))
        .values_list("path", "facet", "value", "n")
    ):
        counts.setdefault((facet, value), {})[path] = n
    return counts


def _price_bounded(rows: StoredRows | None) -> StoredRows | None:
    """These stored rows if their one bound is a unit price bound (`PRICE_BOUNDS`), else None."""
    if rows is None or rows.bound is None or rows.bound[0] not in PRICE_BOUNDS:
        return None
    return rows


@dataclass(frozen=True)
class FacetsCounting:
    """A page's facet counts, some still being counted beside the request (`product_facets_started`):
    `total` and `result()` wait for what they read, so the caller can load its page of products
    meanwhile."""

    counted: Callable[[], int]
    finish: Callable[[], ProductFacets]

    @property
    def total(self) -> int:
        """The matching products (under a price bound, once the stock pass beside is in)."""
        return self.counted()

    def result(self) -> ProductFacets:
        return self.finish()


def product_facets(*, filters: Mapping | ProductFilter, category: Category | None) -> ProductFacets:
    """Counts of matching products by sub-category, supplier, stock status and patient eligibility
    (`product_facets_started`, waited for)."""
    return product_facets_started(filters=filters, category=category).result()


def product_facets_started(*, filters: Mapping | ProductFilter, category: Category | None) -> FacetsCounting:
    """Counts of matching products by sub-category, supplier, stock status and patient eligibility.

    Each of supplier, stock and patient eligibility is counted with every filter but its own, so
    choosing one supplier still shows how many products the others would add. A count whose filters
    left are answered by stored rows (none; patient eligible; in stock: `ProductFilter.stored_rows`)
    reads the categories' stored counts (`CategoryFacetCount`, the subset's: one query for all of
    them, no product or offer read); one with other offer filters counts the products of the buyable
    offers' browse rows that meet them (`OfferBrowse`, an index range) in one grouped query. At most
    six queries whatever the size of the catalogue, and the filters are parsed once.

    The reads over many rows start first, beside the request where they can be
    (`common.concurrent_reads`): the stock pass under a price bound (which also gives the total and
    the sub-category counts), the supplier counts over offer rows (under a price bound right after
    the stock pass on its connection, which tells whether the rows meeting it or those missing it
    are fewer: `products_per_supplier_within_bound_statement`) and the patient-eligible count. The
    rest is counted when first read, so the caller can load its first page of products before it waits for any
    (`FacetsCounting.total`, `FacetsCounting.result`).
    """
    product_filter = _product_filter(filters, category=category)
    C = CategoryFacetCount
    # For the total and each facet: the stored rows answering its filters (None: count offers).
    plans = {
        "total": product_filter.stored_rows(),
        "supplier": product_filter.stored_rows(without="supplier"),
        "stock": product_filter.stored_rows(without=STOCK),
        "patient": product_filter.stored_rows(without=PATIENT_ELIGIBLE),
    }
    wanted = {
        "total": C.LISTED,
        "supplier": C.SUPPLIER,
        "stock": C.STOCK,
        "patient": C.PATIENT,
    }
    # The stock facet under one price bound (besides stored rows' filters): each state's lowest or
    # highest price on the products' rows answers it (`STOCK_PRICES`), per category path in one pass;
    # with one stock state chosen, that state's counts are the total's too.
    stock_rows = (
        _price_bounded(product_filter.stored_rows(without=STOCK, bound=True))
        if plans["stock"] is None
        else None
    )
    # The supplier facet under one price bound (besides stored rows' filters) when the stock pass
    # finds most products meeting it: the subset's stored supplier counts less the products whose
    # every offer of the supplier misses the bound
    # (`products_per_supplier_within_bound_statement`): fewer rows.
    bounded_supplier_rows = (
        _price_bounded(product_filter.stored_rows(without="supplier", bound=True))
        if plans["supplier"] is None and stock_rows is not None
        else None
    )
    names = {key: plan.facet(wanted[key]) for key, plan in plans.items() if plan is not None}

    def offers_meeting(conditions: Q) -> QuerySet[OfferBrowse]:
        return offers_listed_in(product_filter.categories(), conditions)

    def supplier_offers_statement() -> Statement:
        return products_per_supplier_statement(
            offers_meeting(product_filter.offer_conditions(without="supplier"))
        )

    # The reads beside the request start first (a second connection: the counts below and the
    # caller's page of products run meanwhile; `FacetsCounting` waits for them only when read). Under
    # a bound that may be counted by the rows missing it, the supplier counts follow the stock pass
    # on its connection, which tells whether the rows meeting it or those missing it are fewer.
    stock_pending: Pending[StatesByPath] | None = None
    supplier_counts_pending: Pending[NamedCounts] | None = None
    if stock_rows is not None and bounded_supplier_rows is not None:
        stock_statement, states_of = _stock_counts_statement(stock_rows, stock_rows.bound, all_rows=True)
        others, meets, misses = product_filter.offer_price_bound(
            without="supplier", row_bound=bounded_supplier_rows.bound
        )

        def supplier_statements() -> tuple[Statement, Statement]:
            # Compiled while the stock pass runs: the supplier counts over the rows missing the bound,
            # and over those meeting it.
            return (
                products_per_supplier_within_bound_statement(
                    stored_facet_rows(product_filter.categories(), bounded_supplier_rows.facet(C.SUPPLIER)),
                    offers_meeting(others & misses),
                    others & meets,
                ),
                supplier_offers_statement(),
            )

        def supplier_statement(states: StatesByPath, statements: tuple[Statement, Statement]) -> Statement:
            meeting, listed = (
                sum(counts.get(key, 0) for counts in states.values()) for key in (ANY_STATE, ALL_ROWS)
            )
            within_bound, meeting_offers = statements
            return within_bound if meeting > SUPPLIER_COUNT_MISSING_SHARE * listed else meeting_offers

        stock_pending, supplier_counts_pending = read_beside_then(
            stock_statement, states_of, supplier_statements, supplier_statement, _named_supplier_counts
        )
    else:
        if stock_rows is not None:
            stock_statement, states_of = _stock_counts_statement(stock_rows, stock_rows.bound)
            stock_pending = read_beside(*stock_statement, states_of)
        if plans["supplier"] is None:
            supplier_counts_pending = read_beside(*supplier_offers_statement(), _named_supplier_counts)

    patient_rows = (
        product_filter.stored_rows(without=PATIENT_ELIGIBLE, bound=True, also={PATIENT_ELIGIBLE: "true"})
        if plans["patient"] is None
        else None
    )
    # Beside the request too, unless a stock pass is read beside it already: then counted on the
    # request's connection while it waits for that pass and the supplier counts (two cores: a third
    # read beside would slow both).
    count_products = products_counted if stock_pending is not None else products_counted_beside
    patient_eligible: Callable[[], int] | None = None
    if patient_rows is not None:
        patient_eligible = count_products(
            listed_in(patient_rows.categories, subset=patient_rows.subset, bound=patient_rows.bound),
            several_per_product=False,
        )
    elif plans["patient"] is None:
        conditions = product_filter.offer_conditions(without=PATIENT_ELIGIBLE)
        patient_eligible = count_products(
            offers_meeting(conditions & Q(patient_eligible=True)), several_per_product=True
        )

    stored = category_facet_counts(product_filter.categories(), sorted(set(names.values()))) if names else {}

    def stored_sum(key: str, value: str) -> int:
        return sum(stored.get((names[key], value), {}).values())

    chosen_states = set(product_filter.form.cleaned_data.get(STOCK) or ())
    # A count with at most one bound besides is exact on stored rows (`ProductFilter.count`): one row
    # per product in the category's range, not its offers' rows.
    counted = product_filter.stored_rows(bound=True) if plans["total"] is None else None

    @functools.cache
    def matching_by_path() -> dict[str, int]:
        """{category path: matching products}: the total and the sub-category facet."""
        if stock_pending is not None and plans["total"] is None and len(chosen_states) == 1:
            (state,) = chosen_states
            return {
                path: counts[state] for path, counts in stock_pending.result().items() if counts.get(state)
            }
        if stock_pending is not None and not chosen_states and counted == stock_rows:
            # No state chosen: the total's rows and bound are the stock pass's, which counted them too.
            return {
                path: n for path, counts in stock_pending.result().items() if (n := counts.get(ANY_STATE))
            }
        if counted is not None:
            return dict(
                listed_in(counted.categories, subset=counted.subset, bound=counted.bound)
                .order_by()
                .values("category_path")
                .annotate(n=Count("product"))
                .values_list("category_path", "n")
            )
        if plans["total"] is None:
            return dict(
                offers_meeting(product_filter.offer_conditions())
                .order_by()
                .values("category_path")
                .annotate(n=Count("product_id", distinct=True))
                .values_list("category_path", "n")
            )
        return stored.get((names["total"], ""), {})

    def total() -> int:
        return sum(matching_by_path().values())

    def finish() -> ProductFacets:
        # First what the request counts itself, while the reads beside it go on.
        patient = patient_eligible() if patient_eligible is not None else stored_sum("patient", "true")
        by_path = matching_by_path()
        category_values = []
        # Sub-categories of the current one (or top-level categories), counting their descendants.
        for child in category_children(category=category):
            prefix = child.path + CATEGORY_SEPARATOR
            n = sum(count for path, count in by_path.items() if path == child.path or path.startswith(prefix))
            if n:
                category_values.append(FacetValue(child.slug, child.name, n))

        if stock_pending is not None:
            stock_counts = sum((Counter(counts) for counts in stock_pending.result().values()), Counter())
            stock_counts.pop(ANY_STATE, None)
            stock_counts.pop(ALL_ROWS, None)
        elif plans["stock"] is None:
            stock_counts = dict(
                offers_meeting(product_filter.offer_conditions(without=STOCK))
                .order_by()
                .values("stock_status")
                .annotate(n=Count("product_id", distinct=True))
                .values_list("stock_status", "n")
            )
        else:
            stock_counts = {status: stored_sum("stock", status) for status in STOCK_COUNTS}
        stock_statuses = [
            FacetValue(value, label, stock_counts[value])
            for value, label in StockStatus.choices
            if stock_counts.get(value)
        ]

        # Last: the supplier counts started first had every other count's time to finish.
        if supplier_counts_pending is not None:
            named = supplier_counts_pending.result()
        else:
            supplier_counts = {
                int(value): sum(by_category.values())
                for (facet, value), by_category in stored.items()
                if facet == names["supplier"]
            }
            named = {
                pk: (name, supplier_counts[pk])
                for pk, name in Organisation.objects.filter(id__in=list(supplier_counts)).values_list(
                    "id", "name"
                )
            }
        suppliers = sorted(
            (FacetValue(str(pk), name, n) for pk, (name, n) in named.items()),
            key=lambda facet: facet.label,
        )
        return ProductFacets(
            categories=category_values,
            suppliers=suppliers,
            stock_statuses=stock_statuses,
            patient_eligible=patient,
            total=sum(by_path.values()),
        )

    return FacetsCounting(counted=total, finish=finish)


def product_detail(*, slug: str | None = None, product_id: int | None = None) -> Product:
    """One active product with its category and every live offer (supplier, tiers). Three queries.

    A product whose offers are all drafts, pending moderation or withdrawn is NotFound: what a
    supplier has not put on sale (or the marketplace team has not yet approved) is not for buyers or
    patients to read. A product with no offers at all is the marketplace team's own entry and keeps
    its page ("No supplier offers this product")."""
    if (slug is None) == (product_id is None):
        raise ValueError("Give exactly one of slug or product_id.")
    lookup = {"slug": slug} if slug is not None else {"pk": product_id}
    offers = Offer.objects.filter(product=OuterRef("pk"))
    shown = Exists(offers.filter(buyable_offer_q())) | ~Exists(offers)
    product = (
        Product.objects.filter(shown, is_active=True, **lookup)
        .select_related("category", "image")
        .prefetch_related(live_offers_prefetch())
        .first()
    )
    if product is None:
        raise NotFound("No such product.")
    return product


# Suppliers' own offers ----------------------------------------------------------------------------


def supplier_offers(*, user: User, status: str | None = None) -> QuerySet[Offer]:
    """The offers of every supplier the user acts for, newest first."""
    qs = (
        Offer.objects.filter(supplier__in=suppliers_for(user))
        .select_related("product", "product__category", "supplier")
        .prefetch_related("tiers")
        .order_by("-updated_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def supplier_offer(*, user: User, offer_id: int) -> Offer:
    """One of the user's suppliers' offers; NotFound for anyone else's (never reveal it exists)."""
    offer = supplier_offers(user=user).filter(pk=offer_id).first()
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def offer_input(*, offer: Offer, pending: bool = True) -> OfferInput:
    """The offer as its supplier last gave it: the changes waiting for moderation if there are any
    (unless `pending` is False), else its current terms with its product's details. A PATCH starts
    from this; moderators compare the two."""
    if pending and offer.pending_changes:
        return OfferInput.from_json(offer.pending_changes)
    product = offer.product
    return OfferInput(
        supplier_sku=offer.supplier_sku,
        name=product.name,
        category_path=product.category.path,
        description=product.description,
        manufacturer=product.manufacturer,
        manufacturer_part_number=product.manufacturer_part_number,
        gtin=product.gtin,
        npc=product.npc,
        unit_of_measure=product.unit_of_measure,
        units_per_pack=offer.units_per_pack,
        pack_price=offer.pack_price,
        vat_rate=offer.vat_rate,
        tiers=[(t.min_packs, t.pack_price) for t in offer.tiers.all()],
        lead_time_days=offer.lead_time_days,
        min_order_packs=offer.min_order_packs,
        stock_status=offer.stock_status,
        patient_eligible=offer.patient_eligible,
        valid_from=offer.valid_from,
        valid_to=offer.valid_to,
    )


# Moderation ---------------------------------------------------------------------------------------


def moderation_queue_q() -> Q:
    return Q(status=OfferStatus.PENDING) | Q(pending_changes__isnull=False)


def moderation_queue() -> QuerySet[Offer]:
    """New offers awaiting approval and live offers with changes awaiting approval, oldest first."""
    return (
        Offer.objects.filter(moderation_queue_q())
        .select_related("product", "product__category", "supplier")
        .prefetch_related("tiers")
        .order_by("updated_at", "id")
    )


def moderation_queue_count() -> int:
    return Offer.objects.filter(moderation_queue_q()).count()


def moderation_item(*, offer_id: int) -> Offer:
    """One offer in the moderation queue; NotFound if it is not (or no longer) waiting."""
    offer = moderation_queue().filter(pk=offer_id).first()
    if offer is None:
        raise NotFound("Nothing about this offer is waiting for moderation.")
    return offer


@dataclass(frozen=True)
class ChangedValue:
    label: str
    before: object
    after: object


CHANGE_LABELS = {
    "supplier_sku": "SKU",
    "name": "Product name",
    "category_path": "Category",
    "description": "Description",
    "manufacturer": "Manufacturer",
    "manufacturer_part_number": "Part number",
    "gtin": "GTIN",
    "npc": "NPC code",
    "unit_of_measure": "Unit",
    "units_per_pack": "Units per pack",
    "pack_price": "Price per pack (excl. VAT)",
    "vat_rate": "VAT rate",
    "tiers": "Volume prices",
    "lead_time_days": "Lead time (days)",
    "min_order_packs": "Minimum order (packs)",
    "stock_status": "Stock",
    "patient_eligible": "Patient eligible",
    "valid_from": "Valid from",
    "valid_to": "Valid until",
}


def pending_change_list(*, offer: Offer) -> list[ChangedValue]:
    """What a live offer's waiting changes would change, field by field (for moderators)."""
    if not offer.pending_changes:
        return []
    live = offer_input(offer=offer, pending=False)
    proposed = offer_input(offer=offer)
    changes = []
    for name, label in CHANGE_LABELS.items():
        before, after = getattr(live, name), getattr(proposed, name)
        if name == "tiers":
            before, after = tuple(before), tuple(after)
        if before != after:
            changes.append(ChangedValue(label, before, after))
    return changes
