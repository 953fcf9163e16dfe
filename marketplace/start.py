"""The role-aware start page: what each kind of user comes to do, per organisation they act for."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from organisations.models import Role
from organisations.permissions import patients_for
from personal_budgets import selectors as budgets
from purchasing import selectors as purchasing
from purchasing.states import OrderState


@dataclass(frozen=True)
class StartLink:
    title: str
    url_name: str
    description: str
    kwargs: tuple[tuple[str, object], ...] = ()
    # Filled from the organisation the section is for: ("ods_code",) links to that trust's page.
    organisation_kwargs: tuple[str, ...] = ()
    query: str = ""


@dataclass
class StartSection:
    title: str
    links: list[dict] = field(default_factory=list)
    summary: str = ""


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
    StartLink(
        "Negotiated prices",
        "purchasing:negotiated-prices",
        "Give trusts a contract price for an offer between two dates, and withdraw it.",
    ),
]
PRICE_ANALYTICS = StartLink(
    "Where trusts could save", "pricing:national", "What every trust pays per unit, and the largest savings."
)
TRUST_SAVINGS = StartLink(
    "Your trust's savings",
    "pricing:trust",
    "What your trust pays against its peers, the items where it could save most, and reports to download.",
    organisation_kwargs=("ods_code",),
)
LINES_TO_MAP = StartLink(
    "Purchase lines to match",
    "pricing:unmatched",
    "Lines of your purchase history no catalogue product matched yet, to match by hand.",
    organisation_kwargs=("ods_code",),
)
PATIENT_ELIGIBLE_EQUIPMENT = StartLink(
    "Equipment for personal health budgets",
    "search:results",
    "Wheelchairs, aids and equipment whose suppliers sell to people with a personal health budget.",
    query="patient_eligible=yes",
)
UPLOAD_PURCHASE_HISTORY = StartLink(
    "Upload purchase history",
    "pricing:upload",
    "Import your trust's past orders from your ERP (CSV or Excel).",
)
PURCHASING_SETTINGS = StartLink(
    "Purchasing settings",
    "purchasing:settings",
    "Delivery sites, cost centres, approval bands and the invoice match tolerance.",
)
CONTRACT_PRICES = StartLink(
    "Our contract prices",
    "purchasing:contract-prices",
    "The prices suppliers have agreed with your trust, and their dates.",
)
COMMISSIONER_BUDGETS = StartLink(
    "Personal health budgets",
    "personal_budgets:commissioner",
    "Your patients' budgets: allocate money to them and see what is left.",
)
COMMISSIONER_REPORT = StartLink(
    "Personal health budgets report",
    "personal_budgets:report",
    "Allocations, spend by category and supplier, unspent money and budgets near their end (PDF, CSV).",
)
SUPPORTER_SUMMARY = (
    'Choose the person you act for under "Acting for patient" at the top of the page, then find '
    "equipment they may buy with their personal health budget."
)
STAFF_LINKS: list[StartLink] = [
    StartLink("Back office", "wagtailadmin_home", "Manage pages, organisations, members and moderation."),
]
PURCHASING_ROUNDS = StartLink(
    "Purchasing rounds",
    "purchasing:rounds",
    "Buy together with other trusts: the more packs committed, the lower the price for all. "
    "Join, change or withdraw, and see your trust's commitments and orders.",
)
SUPPLIER_ROUNDS = StartLink(
    "Your purchasing rounds",
    "purchasing:rounds-supplier",
    "Propose a round with volume tiers; follow trusts' commitments, the outcome and the orders.",
)
PROPOSE_ROUND = StartLink(
    "Propose a purchasing round",
    "purchasing:round-propose-trust",
    "Pool your trust's demand for a product with other trusts, and follow the rounds your trust proposed.",
)
LINKS_BY_ROLE: dict[str, list[StartLink]] = {
    Role.BUYER: [
        BROWSE_CATALOGUE,
        PURCHASING_ROUNDS,
        TRUST_SAVINGS,
        PRICE_ANALYTICS,
        UPLOAD_PURCHASE_HISTORY,
        LINES_TO_MAP,
        CONTRACT_PRICES,
    ],
    Role.APPROVER: [BROWSE_CATALOGUE, PURCHASING_ROUNDS, TRUST_SAVINGS, PRICE_ANALYTICS],
    Role.TRUST_ADMIN: [
        PURCHASING_SETTINGS,
        PURCHASING_ROUNDS,
        PROPOSE_ROUND,
        BROWSE_CATALOGUE,
        TRUST_SAVINGS,
        PRICE_ANALYTICS,
        UPLOAD_PURCHASE_HISTORY,
        LINES_TO_MAP,
        CONTRACT_PRICES,
    ],
    Role.SUPPLIER_ADMIN: [*SUPPLIER_LINKS, SUPPLIER_ROUNDS],
    Role.SUPPLIER_STAFF: [*SUPPLIER_LINKS, SUPPLIER_ROUNDS],
    Role.BUDGET_MANAGER: [
        COMMISSIONER_BUDGETS,
        COMMISSIONER_REPORT,
        PATIENT_ELIGIBLE_EQUIPMENT,
        BROWSE_CATALOGUE,
    ],
    Role.CARE_COORDINATOR: [PATIENT_ELIGIBLE_EQUIPMENT, BROWSE_CATALOGUE],
}
# What each role can do today, in one sentence above its links. Only what works is said.
SUMMARY_BY_ROLE: dict[str, str] = {
    Role.BUYER: "Search one catalogue across suppliers, compare their offers at your trust's prices, "
    "see what other trusts pay and where your trust could save, order from several suppliers in "
    "one basket, and buy together with other trusts in purchasing rounds.",
    Role.APPROVER: "Approve or reject your trust's orders above its limits, and see the catalogue at your "
    "trust's prices, what other trusts pay and where your trust could save.",
    Role.TRUST_ADMIN: "Set your trust's delivery sites, cost centres and approval bands, see its orders "
    "and who acts for your trust, and everything a buyer can see of prices and savings.",
    Role.SUPPLIER_ADMIN: "Acknowledge, dispatch and invoice trusts' orders; list and change your offers "
    "one at a time or by file, see which wait for approval, propose purchasing rounds, and see who acts "
    "for your company.",
    Role.SUPPLIER_STAFF: "Acknowledge, dispatch and invoice trusts' orders; list and change your offers "
    "one at a time or by file, see which wait for approval, and propose purchasing rounds.",
    Role.BUDGET_MANAGER: "Allocate money to your patients' personal health budgets, see where it went "
    "and what is unspent, and find equipment they may buy.",
    Role.CARE_COORDINATOR: "Approve or decline orders that wait for you, see the budgets of the people "
    "you support, and find equipment they may buy with a personal health budget.",
}
YOUR_BUDGET = StartLink("Your budget", "personal_budgets:home", "How much you have left, and your plan.")
BUDGET_SHOP = StartLink("Shop", "personal_budgets:shop", "Things your plan lets you buy with your budget.")
BUDGET_ORDERS = StartLink(
    "Your orders", "personal_budgets:orders", "What you bought, and what is on its way."
)
BUDGET_STATEMENT = StartLink(
    "Money in and out", "personal_budgets:statement", "Every payment in and out, to save as PDF or CSV."
)
PATIENT_LINKS: list[StartLink] = [
    YOUR_BUDGET,
    BUDGET_SHOP,
    BUDGET_ORDERS,
    BUDGET_STATEMENT,
    PATIENT_ELIGIBLE_EQUIPMENT,
]
PATIENT_SUMMARY = (
    "See what is left in your personal health budget, buy what your plan allows, and see your orders "
    "and statement."
)


def _resolve(links: list[StartLink], organisation=None) -> list[dict]:
    resolved = []
    for link in links:
        kwargs = dict(link.kwargs)
        for name in link.organisation_kwargs:
            value = getattr(organisation, name, None)
            if not value:
                break
            kwargs[name] = value
        else:
            url = reverse(link.url_name, kwargs=kwargs or None)
            resolved.append(
                {
                    "title": link.title,
                    "url": f"{url}?{link.query}" if link.query else url,
                    "description": link.description,
                }
            )
    return resolved


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


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _purchasing_links(membership, counts: dict) -> list[dict]:
    """Buying work waiting for this member, with counts (`purchasing.selectors.start_counts`): an
    approver's queue, a supplier's inbox, a buyer's basket and the trust's orders."""
    organisation, role = membership.organisation, membership.role
    links = []
    if organisation.is_trust and role == Role.APPROVER:
        waiting = counts["approvals"].get(organisation.pk, 0)
        links.append(
            {
                "title": f"Orders to approve ({waiting})",
                "url": reverse("purchasing:approvals"),
                "description": f"{_count(waiting, 'order waits', 'orders wait')} for your approval.",
            }
        )
    if organisation.is_trust and role == Role.BUYER:
        lines = counts["basket_lines"].get(organisation.pk, 0)
        links.append(
            {
                "title": f"Your basket ({lines})",
                "url": reverse("purchasing:basket"),
                "description": f"{_count(lines, 'line', 'lines')} to check out, with what other trusts pay "
                "and cheaper equivalents.",
            }
        )
    if organisation.is_trust and role in TRUST_ORDER_ROLES:
        by_state = counts["by_trust"].get(organisation.pk, {})
        open_orders = sum(n for state, n in by_state.items() if state not in _CLOSED_STATES)
        links.append(
            {
                "title": "Your trust's orders",
                "url": reverse("purchasing:orders"),
                "description": f"{_count(open_orders, 'order', 'orders')} in progress; receive deliveries "
                "and see invoices matched.",
            }
        )
    if organisation.is_supplier and role in SUPPLIER_ORDER_ROLES:
        by_state = counts["by_supplier"].get(organisation.pk, {})
        new = by_state.get(OrderState.SENT, 0)
        to_dispatch = by_state.get(OrderState.ACKNOWLEDGED, 0) + by_state.get(OrderState.PART_DISPATCHED, 0)
        links.append(
            {
                "title": f"Orders from trusts ({new} new)",
                "url": reverse("purchasing:supplier-orders"),
                "description": f"{_count(new, 'order', 'orders')} to acknowledge, "
                f"{to_dispatch} to dispatch; dispatch and invoice.",
            }
        )
    return links


def _budget_links(membership, user) -> list[dict]:
    """A care coordinator's queue of patients' orders waiting for them, with its count."""
    if not (membership.organisation.is_commissioner and membership.role == Role.CARE_COORDINATOR):
        return []
    waiting = budgets.coordinator_queue(user=user).count()
    return [
        {
            "title": f"Orders waiting for you ({waiting})",
            "url": reverse("personal_budgets:coordinator"),
            "description": f"{_count(waiting, 'order waits', 'orders wait')} for your decision; the "
            "budgets of the people you support.",
        }
    ]


def _start_counts(user, memberships) -> dict:
    def ids(test) -> set[int]:
        return {m.organisation_id for m in memberships if test(m)}

    return purchasing.start_counts(
        user=user,
        trust_ids=ids(lambda m: m.organisation.is_trust and m.role in TRUST_ORDER_ROLES),
        buyer_trust_ids=ids(lambda m: m.organisation.is_trust and m.role == Role.BUYER),
        approver_trust_ids=ids(lambda m: m.organisation.is_trust and m.role == Role.APPROVER),
        supplier_ids=ids(lambda m: m.organisation.is_supplier and m.role in SUPPLIER_ORDER_ROLES),
    )


TRUST_ORDER_ROLES = (Role.BUYER, Role.APPROVER, Role.TRUST_ADMIN)
SUPPLIER_ORDER_ROLES = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_STAFF)
_CLOSED_STATES = {OrderState.CLOSED, OrderState.CANCELLED, OrderState.REJECTED}


def start_page_for(user) -> dict:
    sections: list[StartSection] = []
    memberships = list(user.memberships.select_related("organisation").filter(organisation__is_active=True))
    counts = _start_counts(user, memberships)
    for membership in memberships:
        organisation = membership.organisation
        links = [
            *_purchasing_links(membership, counts),
            *_budget_links(membership, user),
            *_resolve(LINKS_BY_ROLE.get(membership.role, []), organisation),
            *_organisation_links(membership),
        ]
        sections.append(
            StartSection(
                f"{membership.get_role_display()} at {organisation}",
                links,
                SUMMARY_BY_ROLE.get(membership.role, ""),
            )
        )
    own_and_supported = list(patients_for(user).values_list("user_id", flat=True))
    if user.pk in own_and_supported:
        sections.append(StartSection("Your personal health budget", _resolve(PATIENT_LINKS), PATIENT_SUMMARY))
    if any(patient_user != user.pk for patient_user in own_and_supported):
        sections.append(StartSection("People you support", _resolve(PATIENT_LINKS), SUPPORTER_SUMMARY))
    if user.is_staff:
        sections.append(
            StartSection(
                "Marketplace administration",
                _resolve(STAFF_LINKS),
                "Manage the site's pages, organisations and members, and moderate suppliers' offers.",
            )
        )
    return {"sections": sections}
