"""The one way offers are written: planned (`plan.py`: matched to products, compared with what is
saved, moderation applied) and then written in bulk (`write.py`). A form, the API, a moderator's
approval and a 100,000-row file all go through it, so they follow exactly the same rules."""

from catalogue.planner.plan import OfferPlanner, offers_plan
from catalogue.planner.types import OFFER_FIELDS, PRODUCT_FIELDS, OfferPlan, PlanError, PlanItem
from catalogue.planner.write import offers_apply, product_slug

__all__ = [
    "OFFER_FIELDS",
    "PRODUCT_FIELDS",
    "OfferPlan",
    "OfferPlanner",
    "PlanError",
    "PlanItem",
    "offers_apply",
    "offers_plan",
    "product_slug",
]
