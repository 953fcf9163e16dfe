"""What the catalogue makes searchable, and how its changes reach the search index.

A product is searchable while it has at least one buyable offer (`catalogue.selectors.buyable_offer_q`:
live, within its dates, from an active supplier, of an active product). Offers passing their dates
are reindexed by a daily beat task (`catalogue.tasks.reindex_offers_changing_date`), a supplier's
products whenever the supplier is saved (`organisations.services.supplier_deactivate` / `_reactivate`).
Its document carries the product's own text, its live offers' identifiers and facets: category
(with ancestors, so a parent category counts its children's products), suppliers, price band of the
lowest live unit price, stock states and whether any live offer may be bought with a personal budget.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.db.models.signals import post_delete, post_save

from catalogue.models import Category, Offer, Product, StockStatus, VolumeTier
from catalogue.selectors import buyable_offer_q, supplier_product_ids
from organisations.models import Organisation, OrganisationKind
from search import registry, services
from search.types import Document, DocumentType, FacetField, TextField, Weight

OBJECT_TYPE = "product"
_CODE_PUNCTUATION = re.compile(r"[^0-9A-Za-z]+")

# Price bands of the lowest live price per unit (GBP, excluding VAT).
PRICE_BANDS: tuple[tuple[str, str, Decimal | None], ...] = (
    ("under-1", "Under £1", Decimal("1")),
    ("1-5", "£1 to £5", Decimal("5")),
    ("5-20", "£5 to £20", Decimal("20")),
    ("20-100", "£20 to £100", Decimal("100")),
    ("100-plus", "£100 or more", None),
)
PATIENT_ELIGIBLE = "true"  # the facet value is the filter's value everywhere (catalogue.filters)
# Part of every document's version: raised when what a document holds changes shape, so the next
# reconcile rewrites every document (2: the patient-eligible facet value became "true", not "yes").
DOCUMENT_SHAPE = 2


def price_band(unit_price: Decimal | None) -> str | None:
    if unit_price is None:
        return None
    for key, _, below in PRICE_BANDS:
        if below is None or unit_price < below:
            return key
    return None


def _stamp(value) -> int:
    return int(value.timestamp() * 1_000_000) if value else 0


def _version(product_updated, category_id, last_offer_update, live_offers, offer_id_sum) -> str:
    return ".".join(
        str(part)
        for part in (
            DOCUMENT_SHAPE,
            _stamp(product_updated),
            category_id,
            _stamp(last_offer_update),
            live_offers,
            offer_id_sum or 0,
        )
    )


def _ancestors(category_id: int, parents: dict[int, int | None]) -> list[int]:
    chain, current = [], category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def load_documents(product_ids: Sequence[int]) -> Iterable[Document]:
    """Documents for the searchable products among these ids, in three queries."""
    products = list(
        Product.objects.filter(id__in=product_ids, is_active=True)
        .select_related("category")
        .only(
            "id",
            "name",
            "description",
            "manufacturer",
            "manufacturer_part_number",
            "gtin",
            "npc",
            "attributes",
            "updated_at",
            "category__id",
            "category__path",
        )
    )
    offers_by_product: dict[int, list[dict]] = defaultdict(list)
    for offer in Offer.objects.filter(buyable_offer_q(), product_id__in=[p.id for p in products]).values(
        "id",
        "product_id",
        "supplier_id",
        "supplier_sku",
        "unit_price",
        "stock_status",
        "patient_eligible",
        "updated_at",
    ):
        offers_by_product[offer["product_id"]].append(offer)
    parents = dict(Category.objects.values_list("id", "parent_id"))
    for product in products:
        offers = offers_by_product.get(product.id)
        if not offers:
            continue
        prices = [o["unit_price"] for o in offers if o["unit_price"] is not None]
        lowest = min(prices) if prices else None
        skus = sorted({o["supplier_sku"] for o in offers})
        codes = [c for c in (product.gtin, product.npc, product.manufacturer_part_number, *skus) if c]
        attributes = " ".join(
            f"{k} {v}" for k, v in (product.attributes or {}).items() if isinstance(v, str | int | float)
        )
        facets: dict[str, list[str]] = {
            "category": [str(c) for c in _ancestors(product.category_id, parents)],
            "supplier": sorted({str(o["supplier_id"]) for o in offers}),
            "stock": sorted({o["stock_status"] for o in offers}),
        }
        band = price_band(lowest)
        if band:
            facets["price_band"] = [band]
        if any(o["patient_eligible"] for o in offers):
            facets["patient_eligible"] = [PATIENT_ELIGIBLE]
        yield Document(
            object_type=OBJECT_TYPE,
            object_id=product.id,
            title=product.name,
            text={
                "name": product.name,
                "manufacturer": product.manufacturer,
                # Each code as one word ("MED-33191" -> "MED33191"): its fragments ("med") would
                # otherwise match abbreviations typed as words. Exact codes go through find_identifier.
                "codes": " ".join(_CODE_PUNCTUATION.sub("", c) for c in codes),
                "category": product.category.path,
                "description": f"{product.description} {attributes}".strip(),
            },
            codes=codes,
            facets=facets,
            price=lowest,
            version=_version(
                product.updated_at,
                product.category_id,
                max(o["updated_at"] for o in offers),
                len(offers),
                sum(o["id"] for o in offers),
            ),
        )


def searchable_versions() -> Iterable[tuple[int, str]]:
    """(product id, version) of every searchable product, in one query."""
    live = buyable_offer_q(prefix="offers__")
    rows = (
        Product.objects.filter(is_active=True)
        .annotate(
            live_offers=Count("offers", filter=live),
            last_offer_update=Max("offers__updated_at", filter=live),
            offer_id_sum=Sum("offers__id", filter=live),
        )
        .filter(live_offers__gt=0)
        .values_list("id", "updated_at", "category_id", "last_offer_update", "live_offers", "offer_id_sum")
    )
    for product_id, updated, category_id, last_offer, count, id_sum in rows.iterator(chunk_size=5000):
        yield product_id, _version(updated, category_id, last_offer, count, id_sum)


PRODUCT_DOCUMENT = DocumentType(
    name=OBJECT_TYPE,
    text_fields=(
        TextField("name", Weight.A),
        TextField("manufacturer", Weight.B),
        TextField("codes", Weight.B),
        TextField("category", Weight.C),
        TextField("description", Weight.D),
    ),
    facet_fields=(
        FacetField("category", "Category"),
        FacetField("supplier", "Supplier"),
        FacetField("price_band", "Price per unit", {key: label for key, label, _ in PRICE_BANDS}),
        FacetField("stock", "Stock", dict(StockStatus.choices)),
        FacetField("patient_eligible", "Personal health budgets", {PATIENT_ELIGIBLE: "Patient eligible"}),
    ),
    code_fields=("gtin", "npc", "manufacturer_part_number", "supplier_sku"),
    load=load_documents,
    versions=searchable_versions,
)


def products_changed(product_ids: Iterable[int]) -> None:
    """Reindex these products when the transaction commits. Bulk writes (file imports) fire no
    signals, so they call this with every product they touched."""
    services.schedule_index(object_type=OBJECT_TYPE, object_ids=list(product_ids))


def index_bring_up_to_date() -> None:
    """Index what is missing or stale and drop what is gone (after seeding, which writes in bulk: the
    index is expected to be behind, so this is no warning of lost updates)."""
    services.reconcile_index(object_type=OBJECT_TYPE, expected=True)


# On-commit hooks: the one place the catalogue uses signals (see ARCHITECTURE.md).
def _product_changed(sender, instance: Product, **kwargs) -> None:
    services.schedule_index(object_type=OBJECT_TYPE, object_ids=[instance.pk])


def _offer_changed(sender, instance: Offer, **kwargs) -> None:
    services.schedule_index(object_type=OBJECT_TYPE, object_ids=[instance.product_id])


def _tier_changed(sender, instance: VolumeTier, **kwargs) -> None:
    product_ids = Offer.objects.filter(id=instance.offer_id).values_list("product_id", flat=True)
    services.schedule_index(object_type=OBJECT_TYPE, object_ids=list(product_ids))


def _category_changed(sender, instance: Category, created: bool = False, **kwargs) -> None:
    # A renamed or moved category changes the path text and ancestor facets of its products.
    if created:
        return
    product_ids = Product.objects.filter(
        Q(category=instance) | Q(category__path__startswith=instance.path + " > ")
    ).values_list("id", flat=True)
    services.schedule_index(object_type=OBJECT_TYPE, object_ids=list(product_ids))


def _organisation_changed(sender, instance: Organisation, created: bool = False, **kwargs) -> None:
    # A supplier deactivated (or reactivated) through its service or the back office takes its
    # offers out of (or back into) what can be bought.
    if created or instance.kind != OrganisationKind.SUPPLIER:
        return
    services.schedule_index(object_type=OBJECT_TYPE, object_ids=supplier_product_ids(supplier_id=instance.pk))


def register() -> None:
    registry.register(PRODUCT_DOCUMENT)
    for model, handler in ((Product, _product_changed), (Offer, _offer_changed), (VolumeTier, _tier_changed)):
        post_save.connect(handler, sender=model, dispatch_uid=f"search-index-{model.__name__}-save")
        post_delete.connect(handler, sender=model, dispatch_uid=f"search-index-{model.__name__}-delete")
    post_save.connect(_category_changed, sender=Category, dispatch_uid="search-index-Category-save")
    post_save.connect(
        _organisation_changed, sender=Organisation, dispatch_uid="search-index-Organisation-save"
    )
