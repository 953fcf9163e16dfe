"""What the planner works with: the items it is given, the saved state it compares them with, and
the plan it hands to the writer. Plain values, no model instances: a file can hold 100,000 rows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from catalogue.matching import KnownProduct
from catalogue.models import OfferStatus
from catalogue.types import OfferInput
from common.errors import DomainError
from organisations.models import Organisation

# The offer's own terms, as compared and written by the planner.
OFFER_FIELDS = (
    "product_id",
    "pack_price",
    "vat_rate",
    "units_per_pack",
    "lead_time_days",
    "min_order_packs",
    "stock_status",
    "patient_eligible",
    "valid_from",
    "valid_to",
)
# The product's details an offer may set (when its supplier is the product's only one).
PRODUCT_FIELDS = (
    "name",
    "description",
    "category_id",
    "manufacturer",
    "manufacturer_part_number",
    "gtin",
    "npc",
    "unit_of_measure",
    "units_per_pack",
)


@dataclass(slots=True)
class PlanItem:
    """One offer to write: `row` is its spreadsheet row (0 for a form), `offer_id` the offer it
    changes when known (forms); files find the offer by SKU."""

    data: OfferInput
    row: int = 0
    offer_id: int | None = None
    # Files have no validity columns: keep the offer's dates rather than clearing them.
    has_validity: bool = True
    # `catalogue.row_hashes.offer_input_hash(data)` once worked out (the planner's unchanged-row join).
    row_hash: str = ""


@dataclass(slots=True)
class PlanError:
    row: int
    error: DomainError


@dataclass(slots=True)
class Existing:
    """The saved state of an offer, as plain values (no model instances: files can be large)."""

    id: int
    supplier_sku: str
    status: str
    pending_changes: dict | None
    product_id: int
    pack_price: Decimal
    vat_rate: Decimal
    units_per_pack: int
    lead_time_days: int | None
    min_order_packs: int
    stock_status: str
    patient_eligible: bool
    valid_from: Any
    valid_to: Any
    tiers: tuple[tuple[int, Decimal], ...] = ()


@dataclass(slots=True)
class Write:
    item: PlanItem | None  # None when nothing is to be written
    existing: Existing | None
    action: str  # create | update | hold | release | unchanged
    status: str
    product: KnownProduct | None = None
    tiers_changed: bool = False


@dataclass
class OfferPlan:
    supplier: Organisation
    writes: list[Write]
    errors: list[PlanError]
    new_products: list[KnownProduct]
    product_updates: dict[int, dict]

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "awaiting_moderation": 0, "unchanged": 0}
        for write in self.writes:
            if write.action == "create":
                counts["created"] += 1
            elif write.action in ("update", "release"):
                counts["updated"] += 1
            elif write.action == "unchanged":
                counts["unchanged"] += 1
            waits = write.status == OfferStatus.PENDING and write.action != "unchanged"
            if write.action == "hold" or waits:
                counts["awaiting_moderation"] += 1
        counts["products_created"] = len(self.new_products)
        counts["products_updated"] = len(self.product_updates)
        return counts
