from __future__ import annotations

from decimal import Decimal

import factory

from catalogue.models import Category, Offer, OfferStatus, Product, VolumeTier
from tests.organisations.factories import SupplierFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Anti-embolism stocking, thigh length, size {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    manufacturer = "Medline"
    manufacturer_part_number = factory.Sequence(lambda n: f"MPN-{n:06d}")
    unit_of_measure = "pair"
    units_per_pack = 1


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory)
    supplier_sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    pack_price = Decimal("12.50")
    vat_rate = Decimal("20")
    units_per_pack = 1
    status = OfferStatus.LIVE


class VolumeTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VolumeTier

    offer = factory.SubFactory(OfferFactory)
    min_packs = 100
    pack_price = Decimal("11.00")
