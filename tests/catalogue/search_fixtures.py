"""A small catalogue indexed through the real on-commit hooks, shared by the search tests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from catalogue.models import Category, Offer, OfferStatus, Product, StockStatus
from organisations.models import Organisation
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory


@dataclass
class Catalogue:
    hosiery: Category
    mobility: Category
    wheelchairs: Category
    gloves: Category
    medline: Organisation
    drive: Organisation
    stocking: Product
    wheelchair: Product
    transit: Product
    glove: Product
    stocking_offer: Offer


def build_catalogue() -> Catalogue:
    # Hosiery and gloves from the category tree every install has; a small tree of our own beside it.
    hosiery = Category.objects.get(path="Clinical consumables > Hosiery")
    gloves = Category.objects.get(path="Clinical consumables > Gloves")
    mobility = CategoryFactory(name="Mobility", slug="mobility")
    wheelchairs = CategoryFactory(name="Wheelchairs", slug="mobility-wheelchairs", parent=mobility)
    medline = SupplierFactory(name="Medline UK")
    drive = SupplierFactory(name="Drive DeVilbiss")
    stocking = ProductFactory(
        name="Anti-embolism stocking, thigh length, medium",
        slug="anti-embolism-stocking-thigh-medium",
        category=hosiery,
        gtin="05012345678905",
        npc="ELY123",
        manufacturer="Medline",
        manufacturer_part_number="MDL-TED-M",
        description="Graduated compression for DVT prophylaxis.",
    )
    wheelchair = ProductFactory(
        name="Self-propelled wheelchair, 18 inch seat",
        slug="self-propelled-wheelchair-18",
        category=wheelchairs,
    )
    transit = ProductFactory(
        name="Transit wheelchair, lightweight", slug="transit-wheelchair", category=wheelchairs
    )
    glove = ProductFactory(
        name="Nitrile examination glove, medium", slug="nitrile-glove-medium", category=gloves
    )
    stocking_offer = OfferFactory(
        product=stocking, supplier=medline, supplier_sku="MED-TED-001", pack_price=Decimal("2.50")
    )
    OfferFactory(product=stocking, supplier=drive, supplier_sku="DRV-77", pack_price=Decimal("3.10"))
    OfferFactory(
        product=wheelchair,
        supplier=drive,
        pack_price=Decimal("250.00"),
        patient_eligible=True,
        stock_status=StockStatus.LOW_STOCK,
    )
    OfferFactory(product=transit, supplier=medline, pack_price=Decimal("180.00"))
    OfferFactory(product=glove, supplier=medline, pack_price=Decimal("4.00"), units_per_pack=100)
    # Not searchable: no live offer.
    OfferFactory(
        product=ProductFactory(name="Draft wheelchair cushion", slug="draft-cushion", category=wheelchairs),
        status=OfferStatus.DRAFT,
    )
    return Catalogue(
        hosiery,
        mobility,
        wheelchairs,
        gloves,
        medline,
        drive,
        stocking,
        wheelchair,
        transit,
        glove,
        stocking_offer,
    )


@pytest.fixture
def catalogue(db, django_capture_on_commit_callbacks) -> Catalogue:
    """Built inside a transaction whose commit runs the indexing hooks (Celery is eager in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        return build_catalogue()
