"""Cross-organisation access, generated: every route that names an object, pages and API alike.

The URL resolver is walked at collection time. For every route with kwargs (pk, slug, ods_code,
job_id, ...) the REGISTRY below makes a real object of one organisation (trust A or supplier A) and
the route is requested, by GET and by POST (and PATCH, PUT, DELETE on the API), as a user of every
other kind: another trust, another supplier, a patient, an ICB, someone who has left the owning
organisation, and nobody signed in. Each must be denied (401, 403, 404, 405, or a redirect to a
sign-in page), never shown the object's data, and a POST must change nothing. The owner's own
GET answers 200, so the object the registry made is the one the route shows.

A new route is covered without anyone writing a test for it: its kwargs must match a registry
entry, or the test of unregistered routes fails and says which. Routes left out are in EXCLUDED,
each with the reason.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from catalogue.imports.importer import KIND as CATALOGUE_IMPORT
from catalogue.models import Offer, OfferStatus
from common import audit
from common.imports import UploadedFile, import_job_create
from common.models import ImportJob
from organisations import services as org_services
from organisations.acting import acting_for
from organisations.models import (
    Invitation,
    Membership,
    Organisation,
    PatientProfile,
    Role,
    SupplierRegistration,
)
from organisations.scoping import scoped
from personal_budgets.models import Allocation, Budget, Spend, SupportPlan
from pricing import analytics
from pricing.imports import KIND as PURCHASE_HISTORY_IMPORT
from purchasing.models import (
    Basket,
    CostCentre,
    DeliverySite,
    NegotiatedPrice,
    OrderReturn,
    PurchaseOrder,
    Round,
)
from purchasing.states import OrderState
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import (
    CommissionerFactory,
    PatientProfileFactory,
    SupplierFactory,
    TrustFactory,
    UserFactory,
    member,
)
from tests.pricing.helpers import line
from tests.purchasing.factories import BasketFactory, BasketLineFactory, order_in

pytestmark = pytest.mark.django_db

VIEWERS = ("other_trust", "other_supplier", "patient", "icb", "former_member", "anonymous")
SIGNED_IN = frozenset(VIEWERS) - {"anonymous"}
DENIED = {401, 403, 404, 405}
SIGN_IN_PAGES = ("/accounts/sign-in", "/cms/login")


# Routes that name something which is not an organisation's object, or that another suite covers.
EXCLUDED: dict[str, str] = {
    "organisations:password-reset-confirm": "uidb64/token name a reset link, checked by Django's token "
    "generator (tests/organisations/test_sign_in.py), not an organisation's object",
    "organisations:invitation-accept": "token names an emailed, single-use invitation link: whoever "
    "holds the link may read it, by design; only a hash is stored (tests/organisations/test_joining.py)",
    "catalogue:import-template": "fmt is a file format: the blank template is the same for everyone",
    "pricing:template": "fmt is a file format: the blank template is the same for everyone",
    "wagtailcore_authenticate_with_password": "Wagtail's password form for a privacy-restricted CMS page",
    "wagtaildocs_authenticate_with_password": "Wagtail's password form for a privacy-restricted document",
    "topups:pay": "a card top-up's pages need an order paid partly by card, which this world does not "
    "make; another patient's top-up answers 404 on each of them in "
    "tests/personal_budgets/topups/test_pages.py (test_another_patients_top_up_is_a_404)",
    "topups:status": "as topups:pay",
    "topups:status-json": "as topups:pay",
    "cms/*": "Wagtail's own admin views (pages, images, documents, users, groups, workflows, "
    "settings): every one requires the access_admin permission (staff), which no organisation "
    "user holds; the back-office views of our own models are in REGISTRY (catalogue-*, *_admin)",
}


@dataclass
class World:
    trust_a: object
    supplier_a: object
    leaver: object  # was a buyer and supplier admin of the A organisations; now works for trust B
    users: dict = field(default_factory=dict)


@dataclass
class Target:
    """A real object of trust A or supplier A, and how a route names it."""

    kwargs: dict
    instance: object
    marker: str  # text of the object's data that a denied answer must not contain
    owner: object | None  # a user who may see it: their GET answers 200 (None: no one outside staff)
    allowed: frozenset = frozenset()  # viewer kinds that may see it too (shared objects)


def _trust_job(world: World) -> Target:
    job = import_job_create(
        kind=PURCHASE_HISTORY_IMPORT,
        upload=UploadedFile(name="leeds-history-secret.csv", content=io.BytesIO(b"trust_ods\nRR8\n")),
        organisation_id=world.trust_a.pk,
        created_by=world.leaver,
    )
    return Target({"job_id": job.pk}, job, "leeds-history-secret", member(Role.BUYER, world.trust_a))


def _supplier_job(world: World) -> Target:
    job = import_job_create(
        kind=CATALOGUE_IMPORT,
        upload=UploadedFile(name="acme-catalogue-secret.csv", content=io.BytesIO(b"supplier_sku\nX\n")),
        organisation_id=world.supplier_a.pk,
        created_by=world.leaver,
    )
    return Target({"pk": job.pk}, job, "acme-catalogue-secret", member(Role.SUPPLIER_STAFF, world.supplier_a))


def _offer(world: World, *, staff_only: bool = False) -> Target:
    offer = OfferFactory(
        supplier=world.supplier_a,
        supplier_sku="ACME-SECRET-SKU",
        status=OfferStatus.DRAFT,
        pack_price=Decimal("12.34"),
    )
    owner = _staff() if staff_only else member(Role.SUPPLIER_ADMIN, world.supplier_a)
    return Target({"pk": offer.pk}, offer, "ACME-SECRET-SKU", owner)


def _product_not_on_sale(world: World, *, key: str = "pk", staff_only: bool = False) -> Target:
    """A product whose only offer is supplier A's, waiting for moderation: nothing on sale."""
    product = ProductFactory(name="Unlaunched secret dressing", slug="unlaunched-secret-dressing")
    OfferFactory(product=product, supplier=world.supplier_a, status=OfferStatus.PENDING)
    value = product.slug if key == "slug" else product.pk
    return Target({key: value}, product, "Unlaunched secret dressing", _staff() if staff_only else None)


def _priced_product(world: World) -> Target:
    """Peer prices of a product: for every trust (shared), for nobody else."""
    product = ProductFactory(name="Peer priced secret stocking")
    line(world.trust_a, product, packs="10", pack_price="5.00")
    analytics.summaries_refresh(full=True)
    return Target(
        {"product_id": product.pk},
        product,
        "Peer priced secret stocking",
        member(Role.BUYER, world.trust_a),
        allowed=frozenset({"other_trust", "former_member"}),
    )


def _trust(world: World, **extra) -> Target:
    line(world.trust_a, ProductFactory(), packs="10", pack_price="5.00")
    analytics.summaries_refresh(full=True)
    return Target(
        {"ods_code": world.trust_a.ods_code, **extra},
        world.trust_a,
        world.trust_a.name,
        member(Role.BUYER, world.trust_a),
    )


def _organisation(world: World, *, role: str = Role.BUYER, staff_only: bool = False) -> Target:
    owner = _staff() if staff_only else member(role, world.trust_a)
    return Target({"pk": world.trust_a.pk}, world.trust_a, world.trust_a.name, owner)


def _category(world: World, *, staff_only: bool = False) -> Target:
    """The catalogue's categories are shared by everyone signed in: only the anonymous are refused."""
    category = CategoryFactory(name="Shared secret category", slug="shared-secret-category")
    if staff_only:
        return Target({"pk": category.pk}, category, "Shared secret category", _staff())
    return Target({"slug": category.slug}, category, "Shared secret category", member(Role.BUYER), SIGNED_IN)


def _membership(world: World) -> Target:
    membership = Membership.objects.create(
        user=UserFactory(full_name="Secret Member"), organisation=world.trust_a, role=Role.APPROVER
    )
    return Target({"pk": membership.pk}, membership, "Secret Member", _staff())


def _patient(world: World) -> Target:
    profile = PatientProfileFactory(user=UserFactory(full_name="Secret Patient"))
    return Target({"pk": profile.pk}, profile, "Secret Patient", _staff())


def _registration(world: World) -> Target:
    registration = SupplierRegistration.objects.create(
        organisation=SupplierFactory(legal_name="Secret Registrant Ltd", is_active=False),
        contact_name="Secret Contact",
        contact_email="contact@registrant.example",
        categories="Wound care",
    )
    return Target({"pk": registration.pk}, registration, "Secret Contact", _staff())


def _invitation(world: World) -> Target:
    invitation = Invitation.objects.create(
        organisation=world.trust_a,
        email="secret.invitee@leeds.example",
        role=Role.BUYER,
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    return Target({"pk": invitation.pk}, invitation, "secret.invitee@leeds.example", _staff())


def _audit_event(world: World) -> Target:
    event = audit.record(kind=org_services.SIGNED_IN, actor_identifier="secret.auditee@leeds.example")
    return Target({"pk": event.pk}, event, "secret.auditee@leeds.example", _staff())


def _moderation(world: World) -> Target:
    offer = OfferFactory(
        supplier=world.supplier_a, supplier_sku="ACME-PENDING-SKU", status=OfferStatus.PENDING
    )
    return Target({"pk": offer.pk}, offer, "ACME-PENDING-SKU", _staff())


def _purchase_order(world: World, *, role: str = Role.BUYER) -> Target:
    """Trust A's order sent to supplier A: the trust's people and the supplier's see it, no one else."""
    from purchasing.states import OrderState
    from tests.purchasing.factories import order_in

    order = order_in(
        OrderState.SENT, trust=world.trust_a, supplier=world.supplier_a, number="SECRET-PO-000001"
    )
    owner_of = world.supplier_a if role in (Role.SUPPLIER_STAFF, Role.SUPPLIER_ADMIN) else world.trust_a
    return Target({"order_id": order.pk}, order, "SECRET-PO-000001", member(role, owner_of))


def _delivery_site(world: World) -> Target:
    from tests.purchasing.factories import DeliverySiteFactory

    site = DeliverySiteFactory(trust=world.trust_a, name="Secret loading bay")
    return Target({"site_id": site.pk}, site, "Secret loading bay", member(Role.TRUST_ADMIN, world.trust_a))


def _cost_centre(world: World) -> Target:
    from tests.purchasing.factories import CostCentreFactory

    centre = CostCentreFactory(trust=world.trust_a, code="SECRET1", name="Secret ward")
    return Target({"centre_id": centre.pk}, centre, "Secret ward", member(Role.TRUST_ADMIN, world.trust_a))


def _basket(world: World) -> Target:
    """A buyer's basket at trust A with a line of supplier A's: only that buyer, acting for A."""
    owner = member(Role.BUYER, world.trust_a)
    basket = BasketFactory(trust=world.trust_a, buyer=owner)
    product = ProductFactory(name="Basketed secret swab")
    BasketLineFactory(basket=basket, offer=OfferFactory(product=product, supplier=world.supplier_a))
    return Target({"pk": basket.pk}, basket, "Basketed secret swab", owner)


def _basket_line(world: World) -> Target:
    target = _basket(world)
    line_id = target.instance.lines.get().pk
    return Target({**target.kwargs, "line_id": line_id}, target.instance, target.marker, target.owner)


def _order(world: World) -> Target:
    """Trust A's order to supplier A, sent: its buyers see it, and the supplier (not another one)."""
    order = order_in(
        OrderState.SENT,
        trust=world.trust_a,
        supplier=world.supplier_a,
        buyer=member(Role.BUYER, world.trust_a),
        note="Secret order note",
    )
    return Target({"pk": order.pk}, order, "Secret order note", member(Role.BUYER, world.trust_a))


def _negotiated_price(world: World) -> Target:
    """Supplier A's negotiated price for trust A: the supplier's people see it (trust A's buyers too on
    the API), no other organisation."""
    from tests.purchasing.factories import negotiated_price

    offer = OfferFactory(supplier=world.supplier_a)
    price = negotiated_price(offer=offer, trusts=[world.trust_a], reference="SECRET-CONTRACT-001")
    owner = member(Role.SUPPLIER_STAFF, world.supplier_a)
    return Target({"price_id": price.pk}, price, "SECRET-CONTRACT-001", owner)


def _negotiated_price_api(world: World) -> Target:
    target = _negotiated_price(world)
    return Target({"pk": target.instance.pk}, target.instance, target.marker, target.owner)


def _round(world: World) -> Target:
    """Supplier A's pooled round, open to trust A only (invited), which has committed: the supplier
    (its proposer) and trust A see it, no one else."""
    from purchasing.models import RoundAudience
    from purchasing.rounds.services import commitment_set
    from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory, acting
    from tests.purchasing.rounds.factories import round_on

    offer = OfferFactory(supplier=world.supplier_a)
    pooled = round_on(offer, audience=RoundAudience.INVITED, title="Secret pooled round")
    pooled.invited.set([world.trust_a])
    DeliverySiteFactory(trust=world.trust_a)
    CostCentreFactory(trust=world.trust_a)
    buyer = member(Role.BUYER, world.trust_a)
    commitment_set(round=pooled, actor=buyer, acting=acting(world.trust_a), packs=10)
    pooled.refresh_from_db()
    return Target(
        {"pk": pooled.pk}, pooled, "Secret pooled round", member(Role.SUPPLIER_STAFF, world.supplier_a)
    )


def _staff():
    return UserFactory(is_staff=True, is_superuser=True)


def _budget_world():
    """A patient of an ICB of their own with a budget, an agreed plan, and an order over the plan's
    cap waiting for their care coordinator (personal budgets)."""
    from personal_budgets import services as budgets
    from purchasing.types import PatientDelivery, PatientLine

    icb = CommissionerFactory()
    coordinator = member(Role.CARE_COORDINATOR, icb)
    manager = member(Role.BUDGET_MANAGER, icb)
    patient = PatientProfileFactory(
        commissioner=icb, care_coordinator=coordinator, user=UserFactory(full_name="Secret Budget Holder")
    )
    category = CategoryFactory(name="Secret mobility")
    offer = OfferFactory(
        product=ProductFactory(category=category, name="Secret walking frame"),
        pack_price=Decimal("80.00"),
        vat_rate=Decimal("0"),
        patient_eligible=True,
    )
    today = timezone.localdate()
    budget = budgets.budget_create(
        patient=patient,
        actor=manager,
        name="Secret wheelchair budget",
        kind="notional",
        amount="500.00",
        period_start=today,
        period_end=today + dt.timedelta(days=365),
    )
    budgets.allocation_create(budget=budget, actor=manager, amount="500.00")
    plan = budgets.plan_propose(budget=budget, actor=coordinator, categories=[category], item_cap="50.00")
    budgets.plan_agree(plan=plan, actor=patient.user)
    result = budgets.patient_checkout(
        patient=patient,
        actor=patient.user,
        lines=[PatientLine(offer_id=offer.pk, packs=1)],
        delivery=PatientDelivery(name="Secret Budget Holder", address="1 Secret Road", postcode="LS1 1AA"),
        idempotency_key="secret",
    )
    return budget, offer, result, coordinator, manager


def _top_up_order(world: World) -> Target:
    """A patient whose plan allows top-ups ordering a chair dearer than their budget has left, the rest
    to be paid by card (Stripe's keys set while the order is placed; nothing asks Stripe)."""
    from django.test import override_settings

    from personal_budgets import services as budgets
    from personal_budgets.topups import services as topups
    from purchasing.types import PatientDelivery, PatientLine

    budget, frame, _, coordinator, _ = _budget_world()
    category = frame.product.category
    chair = OfferFactory(
        product=ProductFactory(category=category, name="Secret chair"),
        pack_price=Decimal("600.00"),
        vat_rate=Decimal("0"),
        patient_eligible=True,
    )
    plan = budgets.plan_propose(
        budget=budget,
        actor=coordinator,
        categories=[category],
        top_ups_allowed=True,
        over_cap_with_approval=False,
    )
    budgets.plan_agree(plan=plan, actor=budget.patient.user)
    keys = {
        "STRIPE_SECRET_KEY": "sk_test_cross_organisation",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_cross_organisation",
        "STRIPE_WEBHOOK_SECRET": "whsec_cross_organisation",
    }
    with override_settings(**keys):
        result = topups.topup_checkout(
            patient=budget.patient,
            actor=budget.patient.user,
            lines=[PatientLine(offer_id=chair.pk, packs=1)],
            delivery=PatientDelivery(
                name="Secret Budget Holder", address="1 Secret Road", postcode="LS1 1AA"
            ),
            idempotency_key="secret-chair",
            card_pence=topups.split_for(budget=budget, total_pence=60000).card_pence,
        )
    return Target({"pk": result.order.pk}, result.order, "Secret chair", budget.patient.user)


def _shop_item(world: World) -> Target:
    budget, offer, _, _, _ = _budget_world()
    return Target({"offer_id": offer.pk}, budget, "Secret walking frame", budget.patient.user)


def _patient_order(world: World) -> Target:
    budget, _, result, _, _ = _budget_world()
    return Target({"order_id": result.order.pk}, result.order, "Secret walking frame", budget.patient.user)


def _spend_waiting(world: World) -> Target:
    _, _, result, coordinator, _ = _budget_world()
    return Target({"spend_id": result.spend.pk}, result.spend, "Secret walking frame", coordinator)


def _wallet(world: World) -> Target:
    budget, _, _, _, _ = _budget_world()
    return Target({"pk": budget.pk}, budget, "allocation:", budget.patient.user)


def _plan_waiting(world: World, *, agree: bool = False) -> Target:
    """A new version of the budget world's plan, waiting for the patient: its versions are seen by
    those who see the budget; the patient (or a carer they chose) alone agrees it."""
    from personal_budgets import services as budgets

    budget, _, _, coordinator, _ = _budget_world()
    waiting = budgets.plan_propose(
        budget=budget,
        actor=coordinator,
        categories=list(budget.plans.get(version=1).categories.all()),
        notes="Secret plan notes",
    )
    kwargs = {"pk": budget.pk, "version": waiting.version} if agree else {"pk": budget.pk}
    return Target(kwargs, waiting, "Secret plan notes", budget.patient.user)


def _budget(world: World) -> Target:
    budget, _, _, _, manager = _budget_world()
    return Target({"budget_id": budget.pk}, budget, "Secret Budget Holder", manager)


def _scheduled_allocation(world: World, *, api: bool = False) -> Target:
    """A scheduled allocation to the budget world's budget: its ICB's budget managers alone may call
    it off (the page names it by budget and allocation, the API by pk)."""
    from personal_budgets import services as budgets

    budget, _, _, _, manager = _budget_world()
    Budget.objects.filter(pk=budget.pk).update(amount=Decimal("900.00"))
    budget.refresh_from_db()
    allocation = budgets.allocation_create(
        budget=budget,
        actor=manager,
        amount="400.00",
        kind="scheduled",
        due_on=timezone.localdate() + dt.timedelta(days=30),
        note="Secret instalment",
    )
    if api:
        return Target({"pk": allocation.pk}, allocation, "Secret instalment", manager)
    kwargs = {"budget_id": budget.pk, "allocation_id": allocation.pk}
    return Target(kwargs, allocation, "Secret Budget Holder", manager)


def _coordinated_budget(world: World) -> Target:
    """The support plan pages of a budget: the patient's own care coordinator alone."""
    budget, _, _, coordinator, _ = _budget_world()
    return Target({"budget_id": budget.pk}, budget, "Secret Budget Holder", coordinator)


def _return_world():
    """The budget world's order, approved by the coordinator, accepted and sent by its supplier, with
    the patient asking to send one back: (budget, order, return, the supplier's staff)."""
    from personal_budgets import services as budgets
    from purchasing import services as purchasing
    from purchasing.returns import services as returns
    from tests.purchasing.factories import acting

    budget, offer, result, coordinator, _ = _budget_world()
    budgets.spend_approve(spend=result.spend, actor=coordinator)
    staff = member(Role.SUPPLIER_STAFF, offer.supplier)
    shop = acting(offer.supplier)
    order = result.order
    purchasing.order_acknowledge(
        order=order.pk, actor=staff, acting=shop, expected_delivery=timezone.localdate()
    )
    purchasing.order_dispatch(order=order.pk, actor=staff, acting=shop, tracking_reference="SECRET-TRK")
    found, _ = returns.return_request(
        order=order.pk,
        actor=budget.patient.user,
        line=order.lines.get().pk,
        packs=1,
        reason="Secret reason for the return",
        idempotency_key="secret-return",
    )
    return budget, order, found, staff


def _patient_return(world: World) -> Target:
    budget, order, _, _ = _return_world()
    return Target({"order_id": order.pk}, order, "Secret walking frame", budget.patient.user)


def _supplier_return(world: World, *, key: str = "order_id") -> Target:
    _, order, found, staff = _return_world()
    return Target({key: order.pk, "return_id": found.pk}, found, "Secret reason for the return", staff)


def _round_page(world: World, *, side: str = "trust") -> Target:
    """Supplier A's purchasing round on its offer, open to trust A alone (invited): trust A's people
    and supplier A's see it; another trust (not invited), another supplier, no one else. The back
    office's (side "staff") is still proposed, waiting for the marketplace team."""
    from purchasing.rounds import services as round_services
    from tests.purchasing.factories import acting

    offer = OfferFactory(supplier=world.supplier_a, pack_price=Decimal("10.00"))
    proposer = member(Role.SUPPLIER_STAFF, world.supplier_a)
    now = timezone.now()
    found = round_services.round_propose(
        actor=proposer,
        acting=acting(world.supplier_a),
        product=offer.product,
        offers=[offer],
        title="Secret pooled round",
        description="",
        opens_at=now - dt.timedelta(minutes=1),
        closes_at=now + dt.timedelta(days=7),
        delivery_from=timezone.localdate() + dt.timedelta(days=14),
        delivery_to=timezone.localdate() + dt.timedelta(days=40),
        minimum_packs=10,
        tiers=[(10, Decimal("9.00")), (50, Decimal("8.00"))],
        audience="invited",
        invited=[world.trust_a],
    )
    if side == "staff":
        return Target({"pk": found.pk}, found, "Secret pooled round", _staff())
    found = round_services.round_approve(round=found, actor=_staff())
    owner = proposer if side == "supplier" else member(Role.BUYER, world.trust_a)
    return Target({"round_id": found.pk}, found, "Secret pooled round", owner)


# Route name (fnmatch pattern, namespace:name) -> the object it names. First match wins.
REGISTRY: list[tuple[str, Callable[[World], Target]]] = [
    ("organisations:organisation-detail", _organisation),
    ("organisations:membership-list", lambda w: _organisation(w, role=Role.TRUST_ADMIN)),
    ("catalogue:category-detail", _category),
    ("catalogue:product-detail", lambda w: _product_not_on_sale(w, key="slug")),
    ("api-product-detail", _product_not_on_sale),
    ("catalogue:supplier-offer-*", _offer),
    ("api-offer-detail", _offer),
    ("catalogue:import-status", _supplier_job),
    ("catalogue-import-detail", _supplier_job),
    ("pricing:product", _priced_product),
    ("pricing-api-variance", _priced_product),
    ("pricing:trust-report", lambda w: _trust(w, fmt="csv")),
    ("pricing:trust", _trust),
    ("pricing:unmatched", _trust),
    ("pricing-api-trust-savings", _trust),
    ("pricing:import-*", _trust_job),
    ("pricing-api-import", _trust_job),
    ("purchasing-api-basket-line", _basket_line),
    ("purchasing-api-basket-line-swap", _basket_line),
    ("purchasing-api-basket*", _basket),
    # The order's documents name it as order_id (purchasing/documents/api_urls.py).
    ("purchasing-api-order-pdf", _purchase_order),
    ("purchasing-api-order-ubl", _purchase_order),
    ("purchasing-api-order-response", lambda w: _purchase_order(w, role=Role.SUPPLIER_STAFF)),
    ("purchasing-api-order*", _order),
    ("purchasing-api-return-*", lambda w: _supplier_return(w, key="pk")),
    ("purchasing-api-negotiated-price*", _negotiated_price_api),
    ("purchasing-api-round*", _round),
    # Our back office in the Wagtail admin: staff only.
    ("catalogue-categories:*", lambda w: _category(w, staff_only=True)),
    ("catalogue-products:*", lambda w: _product_not_on_sale(w, staff_only=True)),
    ("catalogue-offers:*", lambda w: _offer(w, staff_only=True)),
    ("catalogue-moderation:*", _moderation),
    ("organisation_admin:*", lambda w: _organisation(w, staff_only=True)),
    ("membership_admin:*", _membership),
    ("patient_admin:*", _patient),
    # Read or decide only: their add, change and delete views refuse even staff (a redirect).
    ("registration_admin:edit", _registration),
    ("registration_admin:inspect", _registration),
    ("invitation_admin:inspect", _invitation),
    ("audit_admin:inspect", _audit_event),
    ("organisations:invitation-list", lambda w: _organisation(w, role=Role.TRUST_ADMIN)),
    ("purchasing:order", _purchase_order),
    ("purchasing:round", _round_page),
    ("purchasing:round-live", _round_page),
    ("purchasing:round-supplier", lambda w: _round_page(w, side="supplier")),
    # The proposer's cancel page: any other organisation (a trust it is open to too) gets a 404.
    ("purchasing:round-cancel", lambda w: _round_page(w, side="supplier")),
    ("purchasing-rounds:*", lambda w: _round_page(w, side="staff")),
    ("purchasing:approval-decision", lambda w: _purchase_order(w, role=Role.APPROVER)),
    ("purchasing:supplier-return", _supplier_return),
    ("purchasing:supplier-*", lambda w: _purchase_order(w, role=Role.SUPPLIER_STAFF)),
    ("purchasing:settings-site", _delivery_site),
    ("purchasing:settings-centre", _cost_centre),
    ("purchasing:negotiated-price", _negotiated_price),
    ("personal_budgets:buy", _shop_item),
    ("topups:start", _shop_item),
    ("budgets-api-patient-order-top-up", _top_up_order),
    ("personal_budgets:order", _patient_order),
    ("personal_budgets:send-back", _patient_return),
    ("budgets-api-patient-order-returns", _patient_return),
    ("personal_budgets:decide", _spend_waiting),
    ("personal_budgets:allocate", _budget),
    ("personal_budgets:budget-change", _budget),
    ("personal_budgets:allocation-cancel", _scheduled_allocation),
    ("budgets-api-allocation-cancel", lambda w: _scheduled_allocation(w, api=True)),
    ("personal_budgets:plan", _coordinated_budget),
    ("personal_budgets:plan-write", _coordinated_budget),
    ("budgets-api-wallet-transactions", _wallet),
    ("budgets-api-wallet-plans", _plan_waiting),
    ("budgets-api-wallet-plan-agree", lambda w: _plan_waiting(w, agree=True)),
]


# A route whose name is not above but whose kwargs say what they name is covered by these: a new
# trust page under pricing/trusts/<ods_code>/... is tested without anyone adding it. (pk and slug
# name different things on different routes, so those routes are registered by name.)
BY_KWARGS: dict[frozenset, Callable[[World], Target]] = {
    frozenset({"ods_code"}): _trust,
    frozenset({"ods_code", "fmt"}): lambda w: _trust(w, fmt="csv"),
    frozenset({"job_id"}): _trust_job,
    frozenset({"product_id"}): _priced_product,
}


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name or ""
            yield prefix + str(pattern.pattern), name, pattern


def _names_an_object(route: str, pattern: URLPattern) -> bool:
    return bool(pattern.pattern.regex.groupindex)


def _excluded(route: str, name: str) -> bool:
    if name in EXCLUDED:
        return True
    in_cms = route.startswith("cms/") and not any(fnmatch.fnmatch(name, p) for p, _ in REGISTRY)
    return in_cms


def _factory(name: str, kwargs: frozenset = frozenset()):
    by_name = next((make for pattern, make in REGISTRY if fnmatch.fnmatch(name, pattern)), None)
    return by_name or BY_KWARGS.get(kwargs)


ROUTES = [
    (route, name, frozenset(pattern.pattern.regex.groupindex))
    for route, name, pattern in _walk(get_resolver().url_patterns)
    if _names_an_object(route, pattern) and not route.startswith("^media/")
]
COVERED = sorted(
    {
        (route, name, kwargs)
        for route, name, kwargs in ROUTES
        if not _excluded(route, name) and _factory(name, kwargs)
    },
    key=lambda r: r[:2],
)


def test_every_route_that_names_an_object_is_covered_or_listed_with_a_reason():
    missing = [
        f"{route} ({name or 'unnamed'})"
        for route, name, kwargs in ROUTES
        if not _excluded(route, name) and not _factory(name, kwargs)
    ]
    assert not missing, "Add these routes to REGISTRY (or EXCLUDED, with the reason): " + ", ".join(missing)
    assert len(COVERED) >= 20  # the walk found the routes (the pages, the API and the back office)


def test_every_api_operation_that_names_an_object_is_covered():
    """The API schema walked too: each path with a path parameter resolves to a covered route."""
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    covered = {name for _, name, _ in COVERED}
    for path in paths:
        if "{" not in path:
            continue
        sample = path
        for parameter in (
            "{id}",
            "{pk}",
            "{job_id}",
            "{product_id}",
            "{line_id}",
            "{order_id}",
            "{return_id}",
            "{version}",
        ):
            sample = sample.replace(parameter, "1")
        sample = sample.replace("{ods_code}", "RR8")
        assert resolve(sample).view_name in covered, f"{path} is in the schema but not in REGISTRY"


@pytest.fixture
def world() -> World:
    trust_a = TrustFactory(name="Leeds Secret Hospitals NHS Trust", ods_code="RR8")
    supplier_a = SupplierFactory(name="Acme Secret Medical")
    trust_b = TrustFactory(ods_code="RJ1")
    leaver = member(Role.BUYER, trust_b)
    world = World(trust_a=trust_a, supplier_a=supplier_a, leaver=leaver)
    world.users = {
        "other_trust": member(Role.TRUST_ADMIN, trust_b),
        "other_supplier": member(Role.SUPPLIER_ADMIN, SupplierFactory()),
        "patient": PatientProfileFactory(commissioner=CommissionerFactory()).user,
        "icb": member(Role.BUDGET_MANAGER, CommissionerFactory()),
        "former_member": leaver,
        "anonymous": None,
    }
    return world


def _url(name: str, kwargs: dict) -> str:
    return reverse(name, kwargs=kwargs)


def _snapshot(instance) -> dict:
    fresh = type(instance).objects.filter(pk=instance.pk).first()
    return model_to_dict(fresh) if fresh is not None else {}


def _is_denied(response) -> bool:
    if response.status_code in DENIED:
        return True
    if response.status_code == 302:
        return response["Location"].split("?")[0].startswith(SIGN_IN_PAGES)
    return False


@pytest.mark.parametrize(("route", "name", "kwargs"), COVERED, ids=[name for _, name, _ in COVERED])
def test_no_one_outside_the_organisation_reaches_the_object(world, route, name, kwargs):
    target = _factory(name, kwargs)(world)
    url = _url(name, target.kwargs)
    methods = ["get", "post"] + (["patch", "put", "delete"] if url.startswith("/api/") else [])

    if target.owner is not None:
        owner = Client()
        owner.force_login(target.owner)
        answer = owner.get(url)
        assert answer.status_code not in (401, 403, 404), f"the owner cannot GET {url}: {answer.status_code}"
        assert not _is_denied(answer) or answer.status_code == 405, f"the owner is sent to sign in: {url}"

    before = _snapshot(target.instance)
    leaks = []
    for kind in VIEWERS:
        if kind in target.allowed:
            continue
        client = Client()
        if world.users[kind] is not None:
            client.force_login(world.users[kind])
        for method in methods:
            response = getattr(client, method)(url)
            body = response.content.decode(errors="replace") if response.status_code != 302 else ""
            if not _is_denied(response) or target.marker in body:
                leaks.append(f"{kind} {method.upper()} {url} -> {response.status_code}")
    assert not leaks, "Reached another organisation's object: " + "; ".join(leaks)
    assert _snapshot(target.instance) == before, "a denied request changed the object"


# How each kind of object names the organisation that owns it, for `organisations.scoping.scoped`.
# A new app's model that belongs to an organisation adds its lookup here.
OWNER_FIELDS: dict[type, str | tuple[str, ...]] = {
    Offer: "supplier",
    ImportJob: "organisation_id",
    Organisation: "pk",
    Membership: "organisation",
    Invitation: "organisation",
    Basket: "trust",
    # An order belongs to its trust and, once sent, to its supplier: either side's scope finds it.
    PurchaseOrder: ("trust", "supplier"),
    # A negotiated price belongs to its supplier and applies to the trusts it names.
    NegotiatedPrice: ("supplier", "applies_to__trust"),
    # A round belongs to whoever proposed it (the trusts of its audience see it once approved); an
    # invited trust finds it by its invitation.
    Round: ("proposed_by_organisation", "invited"),
    # A personal budget (and so its wallet and the money each order takes) belongs to its ICB.
    Budget: "commissioner",
    Spend: "budget__commissioner",
    Allocation: "budget__commissioner",
    SupportPlan: "budget__commissioner",
    # A patient belongs to their ICB; a trust's delivery sites and cost centres to the trust.
    PatientProfile: "commissioner",
    DeliverySite: "trust",
    CostCentre: "trust",
    # A return belongs to its order's sides: the trust (a trust's order) and the supplier.
    OrderReturn: ("order__trust", "order__supplier"),
}

# How each kind of object names the patient it belongs to: what the patient (or a carer or care
# coordinator acting for them) finds through `acting.patient`, and no other patient.
PATIENT_FIELDS: dict[type, str] = {
    PatientProfile: "pk",
    Budget: "patient",
    Spend: "budget__patient",
    SupportPlan: "budget__patient",
    PurchaseOrder: "patient",
    OrderReturn: "order__patient",
}
OWNED = sorted({(route, name) for route, name, _ in COVERED if name})


def _acting_of(user):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return acting_for(request)


@pytest.mark.parametrize(("route", "name"), OWNED, ids=[name for _, name in OWNED])
def test_scoping_to_the_acting_organisation_finds_the_object_only_for_its_own(world, route, name):
    """The one-line scope a new app uses (`scoped(queryset, acting, field=...)`) keeps the object
    from every other kind of user and gives it to its owner."""
    target = _factory(name)(world)
    model = type(target.instance)
    field = OWNER_FIELDS.get(model) or OWNER_FIELDS.get(model.__mro__[1])
    if field is None:
        pytest.skip(f"{model.__name__} belongs to no organisation (shared or staff-only)")
    objects = model.objects.filter(pk=target.instance.pk)
    fields = field if isinstance(field, tuple) else (field,)
    patient_field = PATIENT_FIELDS.get(model)
    patient_owned = (
        patient_field is not None and objects.filter(**{f"{patient_field}__isnull": False}).exists()
    )

    def found_by(user) -> bool:
        acting = _acting_of(user)
        if any(scoped(objects, acting, field=name).exists() for name in fields):
            return True
        # A patient's object: found by whoever acts for that patient.
        return (
            patient_owned
            and acting.patient is not None
            and objects.filter(**{patient_field: acting.patient.pk}).exists()
        )

    for kind in SIGNED_IN - target.allowed:
        assert not found_by(world.users[kind]), kind
    acts_for_a_patient = target.owner is not None and _acting_of(target.owner).patient is not None
    if target.owner is not None and (
        target.owner.memberships.exists() or (patient_owned and acts_for_a_patient)
    ):
        assert found_by(target.owner)
