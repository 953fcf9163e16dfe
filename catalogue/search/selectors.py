"""Reads the search pages and API need from the catalogue: a page of products in one query, facet labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, F, Min, Q, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from catalogue.caching import catalogue_cached
from catalogue.indexing import OBJECT_TYPE
from catalogue.models import Category, Product, StockStatus
from catalogue.selectors import buyable_offer_q
from organisations.models import Organisation, OrganisationKind
from search import selectors as search_selectors
from search.types import FacetCount, SearchQuery, SearchResults

INDEX_NAMESPACE = search_selectors.index_cache_namespace(OBJECT_TYPE)


@dataclass(frozen=True)
class ProductCard:
    id: int
    name: str
    slug: str
    manufacturer: str
    category_path: str
    unit_of_measure: str
    units_per_pack: int
    lowest_unit_price: Decimal | None
    live_offers: int
    in_stock_offers: int
    patient_eligible: bool


def _offer_filters_q(filters: Mapping[str, list[str]] | None) -> Q:
    """The chosen offer filters (supplier, stock, patient eligibility) alone; empty when none."""
    q = Q()
    filters = filters or {}
    if suppliers := [int(v) for v in filters.get("supplier", []) if v.isdigit()]:
        q &= Q(offers__supplier_id__in=suppliers)
    if stock := [v for v in filters.get("stock", []) if v in StockStatus.values]:
        q &= Q(offers__stock_status__in=stock)
    if filters.get("patient_eligible"):
        q &= Q(offers__patient_eligible=True)
    return q


def matching_offers_q(filters: Mapping[str, list[str]] | None) -> Q:
    """The buyable offers (catalogue.selectors.buyable_offer_q) a card speaks for under the chosen
    offer filters (supplier, stock, patient eligibility), all met by the same offer: filtered to
    "out of stock", a card must not quote the price of the offer that is in stock."""
    return buyable_offer_q(prefix="offers__") & _offer_filters_q(filters)


def product_cards(
    product_ids: list[int], *, filters: Mapping[str, list[str]] | None = None
) -> list[ProductCard]:
    """Products for a page of search results, in the order given, in one query (no N+1). Prices
    and counts are over the offers that meet the offer filters in `filters`: with none chosen they
    are each product's stored browse data (`catalogue.models.ProductBrowse`), no offer is counted."""
    if not product_ids:
        return []
    products = Product.objects.filter(id__in=product_ids, is_active=True).select_related("category")
    if _offer_filters_q(filters):
        matching = matching_offers_q(filters)
        rows = products.annotate(
            lowest_unit_price=Min("offers__unit_price", filter=matching),
            live_offers=Count("offers", filter=matching),
            in_stock_offers=Count("offers", filter=matching & Q(offers__stock_status=StockStatus.IN_STOCK)),
            patient_offers=Count("offers", filter=matching & Q(offers__patient_eligible=True)),
        )
    else:
        rows = products.annotate(
            lowest_unit_price=F("browse__min_unit_price"),
            live_offers=Coalesce("browse__offer_count", 0),
            in_stock_offers=Coalesce("browse__in_stock_count", 0),
            patient_offers=Case(When(browse__patient_eligible=True, then=1), default=0),
        )
    by_id = {
        p.id: ProductCard(
            id=p.id,
            name=p.name,
            slug=p.slug,
            manufacturer=p.manufacturer,
            category_path=p.category.path,
            unit_of_measure=p.unit_of_measure,
            units_per_pack=p.units_per_pack,
            lowest_unit_price=p.lowest_unit_price,
            live_offers=p.live_offers,
            in_stock_offers=p.in_stock_offers,
            patient_eligible=p.patient_offers > 0,
        )
        for p in rows
    }
    return [by_id[i] for i in product_ids if i in by_id]


def product_urls(product_ids: list[int]) -> dict[int, str]:
    """{id: product page URL} of the active products among these ids, in one query."""
    rows = Product.objects.filter(id__in=product_ids, is_active=True).values_list("id", "slug")
    return {pk: reverse("catalogue:product-detail", kwargs={"slug": slug}) for pk, slug in rows}


def _ids(values: list[FacetCount]) -> list[int]:
    return [int(f.value) for f in values if f.value.isdigit()]


def label_facets(
    facets: dict[str, list[FacetCount]], *, selected_categories: list[str]
) -> dict[str, list[FacetCount]]:
    """Names for category and supplier facet values (two queries), and the category facet narrowed to
    one level: the top level, or the children of the deepest category chosen."""
    out = dict(facets)
    categories = facets.get("category", [])
    if categories:
        known = {
            c["id"]: c
            for c in Category.objects.filter(id__in=_ids(categories)).values(
                "id", "name", "parent_id", "depth"
            )
        }
        chosen = [known[int(v)] for v in selected_categories if v.isdigit() and int(v) in known]
        deepest = max(chosen, key=lambda c: c["depth"]) if chosen else None
        out["category"] = [
            FacetCount(value=f.value, count=f.count, label=known[int(f.value)]["name"])
            for f in categories
            if f.value.isdigit()
            and int(f.value) in known
            and (
                known[int(f.value)]["parent_id"] == deepest["id"]
                if deepest
                else known[int(f.value)]["depth"] == 0
            )
        ]
    suppliers = facets.get("supplier", [])
    if suppliers:
        names = dict(
            Organisation.objects.filter(id__in=_ids(suppliers), kind=OrganisationKind.SUPPLIER).values_list(
                "id", "name"
            )
        )
        out["supplier"] = [
            FacetCount(value=f.value, count=f.count, label=names[int(f.value)])
            for f in suppliers
            if f.value.isdigit() and int(f.value) in names
        ]
    return out


def category_names(ids: list[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    return {str(i): name for i, name in Category.objects.filter(id__in=numeric).values_list("id", "name")}


# The products API narrows its list to this many best text matches (the search engine's page limit);
# GET /api/v1/search/ pages through every match.
PRODUCT_LIST_SEARCH_LIMIT = 100


def product_ids_matching(text: str) -> list[int]:
    """The ids of the products that best match `text`, best first (synonyms and typos as in search)."""
    query = SearchQuery(text=text, limit=PRODUCT_LIST_SEARCH_LIMIT, with_facets=False)
    results = catalogue_cached(
        ("product-ids", repr(query)), lambda: search_selectors.search(query), also=(INDEX_NAMESPACE,)
    )
    return [hit.object_id for hit in results.hits]


@dataclass(frozen=True)
class ProductSearch:
    """One search of the catalogue as the page and the API both answer it: either the one product
    whose identifier was typed (`exact`), or a page of results with their cards and labelled facets."""

    query: SearchQuery
    exact: ProductCard | None = None
    results: SearchResults | None = None
    cards: tuple[ProductCard, ...] = ()
    facets: Mapping[str, list[FacetCount]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return 1 if self.exact else (self.results.total if self.results else 0)

    @property
    def corrected_text(self) -> str | None:
        return self.results.corrected_text if self.results else None


def product_search(query: SearchQuery) -> ProductSearch:
    """The one product search of the search page and the search API, kept for every buyer in the
    shared cache until the catalogue or the product index changes (cards carry list prices only:
    the same for everyone). See `product_search_uncached`."""
    return catalogue_cached(
        ("product-search", repr(query)), lambda: product_search_uncached(query), also=(INDEX_NAMESPACE,)
    )


def product_search_uncached(query: SearchQuery) -> ProductSearch:
    """The one product search of the search page and the search API.

    An exact GTIN, NPC, SKU or part number typed alone on the first page answers with that product;
    otherwise the engine's page of results, with product cards (prices and counts over the offers
    meeting the offer filters) and facet values named. Raises InvalidSearch or SearchUnavailable."""
    if query.text and query.offset == 0 and not query.filters:
        match = search_selectors.find_identifier(query.text)
        if match:
            cards = product_cards([match.object_id])
            if cards:
                return ProductSearch(query=query, exact=cards[0], cards=tuple(cards))
    results = search_selectors.search(query)
    filters = {name: list(values) for name, values in query.filters.items()}
    return ProductSearch(
        query=query,
        results=results,
        cards=tuple(product_cards(results.ids, filters=filters)),
        facets=label_facets(results.facets, selected_categories=filters.get("category", [])),
    )
