"""A pool: one supplier's stockings offer at £10.00 a pack and four trusts, each with a buyer, an
approver, a trust admin, a delivery site and a cost centre."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from catalogue.models import Offer
from organisations.models import Organisation, Region, Role, User
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory, TrustFactory, member
from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory


@dataclass
class Trust:
    organisation: Organisation
    buyer: User
    approver: User
    admin: User


@dataclass
class Pool:
    supplier: Organisation
    supplier_staff: User
    offer: Offer
    trusts: list[Trust]
    staff: User  # the marketplace team

    @property
    def leeds(self) -> Trust:
        return self.trusts[0]


@pytest.fixture
def pool(db) -> Pool:
    supplier = SupplierFactory(name="Alpha Medical")
    product = ProductFactory(name="Anti-embolism stockings, thigh length, medium")
    offer = OfferFactory(supplier=supplier, product=product, pack_price=Decimal("10.00"))
    trusts = []
    for ods, name, region in (
        ("RR8", "Leeds Teaching Hospitals NHS Trust", Region.NORTH_EAST_AND_YORKSHIRE),
        ("RX1", "Nottingham University Hospitals NHS Trust", Region.MIDLANDS),
        ("RJ1", "Guy's and St Thomas' NHS Foundation Trust", Region.LONDON),
        ("RTH", "Oxford University Hospitals NHS Foundation Trust", Region.SOUTH_EAST),
    ):
        trust = TrustFactory(ods_code=ods, name=name, region=region)
        DeliverySiteFactory(trust=trust, name="Main stores")
        CostCentreFactory(trust=trust, code="THR01")
        trusts.append(
            Trust(
                organisation=trust,
                buyer=member(Role.BUYER, trust),
                approver=member(Role.APPROVER, trust),
                admin=member(Role.TRUST_ADMIN, trust),
            )
        )
    return Pool(
        supplier=supplier,
        supplier_staff=member(Role.SUPPLIER_STAFF, supplier),
        offer=offer,
        trusts=trusts,
        staff=member(Role.BUYER, TrustFactory(), is_staff=True),
    )
