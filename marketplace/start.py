"""The role-aware start page: what each kind of user comes to do, per organisation they act for."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from organisations.models import Role
from organisations.permissions import patient_profile_for


@dataclass(frozen=True)
class StartLink:
    title: str
    url_name: str
    description: str
    kwargs: tuple[tuple[str, object], ...] = ()


@dataclass
class StartSection:
    title: str
    links: list[dict] = field(default_factory=list)


# What each role comes to do. Apps' pages are added here as they are built.
PRICE_ANALYTICS = StartLink(
    "Where trusts could save", "pricing:national", "What every trust pays per unit, and the largest savings."
)
UPLOAD_PURCHASE_HISTORY = StartLink(
    "Upload purchase history",
    "pricing:upload",
    "Import your trust's past orders from your ERP (CSV or Excel).",
)
LINKS_BY_ROLE: dict[str, list[StartLink]] = {
    Role.BUYER: [PRICE_ANALYTICS, UPLOAD_PURCHASE_HISTORY],
    Role.APPROVER: [PRICE_ANALYTICS],
    Role.TRUST_ADMIN: [PRICE_ANALYTICS, UPLOAD_PURCHASE_HISTORY],
    Role.SUPPLIER_ADMIN: [],
    Role.SUPPLIER_STAFF: [],
    Role.BUDGET_MANAGER: [],
    Role.CARE_COORDINATOR: [],
}
PATIENT_LINKS: list[StartLink] = []
STAFF_LINKS: list[StartLink] = [
    StartLink("Back office", "wagtailadmin_home", "Manage pages, organisations, members and moderation."),
]


def _resolve(links: list[StartLink]) -> list[dict]:
    return [
        {
            "title": link.title,
            "url": reverse(link.url_name, kwargs=dict(link.kwargs) or None),
            "description": link.description,
        }
        for link in links
    ]


def start_page_for(user) -> dict:
    sections: list[StartSection] = []
    memberships = user.memberships.select_related("organisation").filter(organisation__is_active=True)
    for membership in memberships:
        organisation = membership.organisation
        links = _resolve(LINKS_BY_ROLE.get(membership.role, []))
        sections.append(StartSection(f"{membership.get_role_display()} at {organisation}", links))
    if patient_profile_for(user) is not None:
        sections.append(StartSection("Your personal health budget", _resolve(PATIENT_LINKS)))
    if user.is_staff:
        sections.append(StartSection("Marketplace administration", _resolve(STAFF_LINKS)))
    return {"sections": sections}
