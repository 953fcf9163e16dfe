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
BROWSE_CATALOGUE = StartLink(
    "Browse the catalogue",
    "catalogue:index",
    "Compare suppliers' offers with your price per pack and per unit.",
)
SUPPLIER_LINKS = [
    StartLink(
        "Your offers",
        "catalogue:supplier-offers",
        "Add, change and withdraw offers; see what awaits approval.",
    ),
    StartLink(
        "Upload a catalogue file",
        "catalogue:import-upload",
        "Add or update many offers at once from CSV or Excel.",
    ),
]
PRICE_ANALYTICS = StartLink(
    "Where trusts could save", "pricing:national", "What every trust pays per unit, and the largest savings."
)
UPLOAD_PURCHASE_HISTORY = StartLink(
    "Upload purchase history",
    "pricing:upload",
    "Import your trust's past orders from your ERP (CSV or Excel).",
)
LINKS_BY_ROLE: dict[str, list[StartLink]] = {
    Role.BUYER: [BROWSE_CATALOGUE, PRICE_ANALYTICS, UPLOAD_PURCHASE_HISTORY],
    Role.APPROVER: [BROWSE_CATALOGUE, PRICE_ANALYTICS],
    Role.TRUST_ADMIN: [BROWSE_CATALOGUE, PRICE_ANALYTICS, UPLOAD_PURCHASE_HISTORY],
    Role.SUPPLIER_ADMIN: [*SUPPLIER_LINKS],
    Role.SUPPLIER_STAFF: [*SUPPLIER_LINKS],
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


# Roles that see who may act for their organisation (organisations.views.membership_list).
MEMBER_ADMIN_ROLES = {Role.TRUST_ADMIN, Role.SUPPLIER_ADMIN, Role.BUDGET_MANAGER}


def _organisation_links(membership) -> list[dict]:
    """Links to the pages about the member's own organisation."""
    organisation = membership.organisation
    links = [
        {
            "title": organisation.name,
            "url": reverse("organisations:organisation-detail", kwargs={"pk": organisation.pk}),
            "description": "Your organisation's details.",
        }
    ]
    if membership.role in MEMBER_ADMIN_ROLES:
        links.append(
            {
                "title": "Members",
                "url": reverse("organisations:membership-list", kwargs={"pk": organisation.pk}),
                "description": "Who may act for your organisation, and in which role.",
            }
        )
    return links


def start_page_for(user) -> dict:
    sections: list[StartSection] = []
    memberships = user.memberships.select_related("organisation").filter(organisation__is_active=True)
    for membership in memberships:
        organisation = membership.organisation
        links = [*_resolve(LINKS_BY_ROLE.get(membership.role, [])), *_organisation_links(membership)]
        sections.append(StartSection(f"{membership.get_role_display()} at {organisation}", links))
    if patient_profile_for(user) is not None:
        sections.append(StartSection("Your personal health budget", _resolve(PATIENT_LINKS)))
    if user.is_staff:
        sections.append(StartSection("Marketplace administration", _resolve(STAFF_LINKS)))
    return {"sections": sections}
