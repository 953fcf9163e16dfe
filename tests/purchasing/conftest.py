"""A small market: one trust (RR8) with its people, three suppliers with offers, delivery details."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from catalogue.models import Offer
from organisations.models import Organisation, Role, User
from purchasing.types import OrderInput
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory, TrustFactory, member
from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory


@dataclass
class Market:
    trust: Organisation
    other_trust: Organisation
    buyer: User
    second_buyer: User
    approver: User
    second_approver: User
    admin: User
    suppliers: list[Organisation]
    staff: list[User]
    offers: list[Offer]
    site: object
    centre: object

    def order_inputs(self, supplier_ids) -> list[OrderInput]:
        return [
            OrderInput(supplier_id=pk, delivery_site_id=self.site.pk, cost_centre_id=self.centre.pk)
            for pk in supplier_ids
        ]


@pytest.fixture
def market(db) -> Market:
    return build_market()


def build_market() -> Market:
    trust = TrustFactory(ods_code="RR8", name="Leeds Teaching Hospitals NHS Trust")
    other = TrustFactory(ods_code="RX1", name="Nottingham University Hospitals NHS Trust")
    suppliers = [
        SupplierFactory(name=name) for name in ("Alpha Medical", "Beta Healthcare", "Gamma Supplies")
    ]
    category = CategoryFactory(name="Gloves", attribute_names=["size", "material"])
    offers = []
    for index, supplier in enumerate(suppliers):
        product = ProductFactory(
            category=category, unit_of_measure="each", attributes={"size": f"S{index}", "material": "nitrile"}
        )
        offers.append(OfferFactory(supplier=supplier, product=product, pack_price=Decimal("10.00") + index))
    return Market(
        trust=trust,
        other_trust=other,
        buyer=member(Role.BUYER, trust),
        second_buyer=member(Role.BUYER, trust),
        approver=member(Role.APPROVER, trust),
        second_approver=member(Role.APPROVER, trust),
        admin=member(Role.TRUST_ADMIN, trust),
        suppliers=suppliers,
        staff=[member(Role.SUPPLIER_STAFF, s) for s in suppliers],
        offers=offers,
        site=DeliverySiteFactory(trust=trust, name="Main stores"),
        centre=CostCentreFactory(trust=trust, code="THR01"),
    )
