"""Purchasing's business rules: trust settings, the basket, checkout and every order transition.

Each function takes keyword-only arguments, runs in one transaction and raises `common.errors`
domain errors naming the field at fault. Who acts is explicit: `actor` (the person) and `acting`
(the organisation the request acts for, `organisations.acting.Acting`); the person's roles there
are read from their memberships here, never taken on trust.

An order's state changes only in `_steps` (through `_move`, called by the transition services below
after they have locked the order row, checked the transition table (`purchasing.states.TRANSITIONS`)
and the actor's side, or `orders_place` for orders it writes at the state reached); `_steps_record`
records the `OrderEvent`, writes the audit log, calls the order listeners and queues the email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings as django_settings
from django.core.mail import EmailMessage, get_connection, send_mass_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import unbuyable_reasons
from catalogue.strategy import Strategy, default_strategy
from common import audit, gs1
from common.bulk import insert_rows
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.money import Money, Price
from organisations.acting import Acting
from organisations.models import CarerLink, Membership, Organisation, PatientProfile, Role, User
from organisations.permissions import patients_for, roles_for
from pricing.services import purchase_lines_record
from pricing.types import PurchaseLineInput
from purchasing.models import (
    Basket,
    BasketLine,
    CheckoutRequest,
    CostCentre,
    DeliverySite,
    InvoiceLine,
    OrderApproval,
    OrderCounter,
    OrderEvent,
    OrderLine,
    PurchaseOrder,
    PurchasingSettings,
)
from purchasing.selectors import approval_bands, basket_lines, equivalent_attributes, swap_quantity
from purchasing.states import SIDE_ROLES, SUPPLIER_VISIBLE_STATES, TRANSITIONS, OrderState, Side, event_label
from purchasing.types import (
    ApprovalBands,
    ChangeKind,
    ChangesToConfirm,
    CheckoutChange,
    OrderInput,
    PatientDelivery,
    PatientLine,
    Placement,
    QuantityByLine,
)

S = OrderState

SETTINGS_CHANGED = audit.register_kind("purchasing.settings_changed", "Purchasing settings changed")
CHECKOUT = audit.register_kind("purchasing.checkout", "Basket checked out")
PLACED = audit.register_kind("purchasing.order_placed", "Order placed for a trust (a closed round)")
# One audit kind per transition, "purchasing.order_<past tense>".
ORDER_KINDS: dict[str, str] = {
    "submit": audit.register_kind("purchasing.order_submitted", "Order submitted"),
    "approve": audit.register_kind("purchasing.order_approved", "Order approved"),
    "reject": audit.register_kind("purchasing.order_rejected", "Order rejected by approver"),
    "send": audit.register_kind("purchasing.order_sent", "Order sent to supplier"),
    "acknowledge": audit.register_kind("purchasing.order_acknowledged", "Order acknowledged"),
    "supplier_reject": audit.register_kind(
        "purchasing.order_supplier_rejected", "Order rejected by supplier"
    ),
    "dispatch": audit.register_kind("purchasing.order_dispatched", "Order dispatched"),
    "receive": audit.register_kind("purchasing.order_received", "Order received"),
    "invoice": audit.register_kind("purchasing.order_invoiced", "Order invoiced"),
    "cancel": audit.register_kind("purchasing.order_cancelled", "Order cancelled"),
    "close": audit.register_kind("purchasing.order_closed", "Order closed"),
}
assert set(ORDER_KINDS) == set(TRANSITIONS), "every transition has its audit kind"

# Called in the transaction of every order transition (see `register_order_listener`).
_order_listeners: list[Callable[..., None]] = []

MAX_KEY_LENGTH = CheckoutRequest._meta.get_field("key").max_length
MAX_NOTE_LENGTH = 2000
MAX_AMOUNT = Decimal(10**9)  # a billion pounds: well inside money_field's 14 digits


# --- Who may act -----------------------------------------------------------------------------


def _require_member(
    *, actor: User, acting: Acting, organisation: Organisation, roles: Sequence[str], what: str
) -> None:
    """The request acts for `organisation` and the actor holds one of `roles` there."""
    if acting.organisation is None or acting.organisation.pk != organisation.pk:
        raise PermissionDenied(f"You are not acting for {organisation.name}.", field="acting")
    if not set(roles) & roles_for(actor, organisation):
        raise PermissionDenied(f"Only {what} of {organisation.name} may do this.", field="acting")


def _require_trust_admin(*, actor: User, acting: Acting, trust: Organisation) -> None:
    if not trust.is_trust:
        raise DomainError("Purchasing settings belong to NHS trusts.", field="trust")
    _require_member(
        actor=actor, acting=acting, organisation=trust, roles=[Role.TRUST_ADMIN], what="a trust admin"
    )


def _text(value: str, *, field: str, required: bool = True, max_length: int = MAX_NOTE_LENGTH) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(f"Enter the {field.replace('_', ' ')}.", field=field)
    if len(text) > max_length:
        raise DomainError(f"The {field.replace('_', ' ')} is at most {max_length} characters.", field=field)
    if "\x00" in text:
        raise DomainError(
            f"The {field.replace('_', ' ')} holds a character that is not allowed.", field=field
        )
    return text


def _amount(value, *, field: str, places: int = 2) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, float) else None
    except (InvalidOperation, ValueError):
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or not 0 <= amount < MAX_AMOUNT
        or amount.as_tuple().exponent < -places
    ):
        raise DomainError(
            f"Enter an amount from 0 to {MAX_AMOUNT - 1:,}, to {places} decimal places.", field=field
        )
    return amount


# --- Trust settings --------------------------------------------------------------------------


def purchasing_settings_update(
    *,
    trust: Organisation,
    actor: User,
    acting: Acting,
    one_approver_above: Decimal,
    two_approvers_above: Decimal,
    price_tolerance_percent: Decimal,
    price_tolerance_amount: Decimal,
) -> PurchasingSettings:
    """Set the trust's approval bands and invoice match tolerance (a trust admin)."""
    _require_trust_admin(actor=actor, acting=acting, trust=trust)
    one = _amount(one_approver_above, field="one_approver_above")
    two = _amount(two_approvers_above, field="two_approvers_above")
    if two < one:
        raise DomainError(
            "The two-approver band starts at or above the one-approver band.", field="two_approvers_above"
        )
    percent = _amount(price_tolerance_percent, field="price_tolerance_percent")
    if percent > 100:
        raise DomainError("The price tolerance is at most 100%.", field="price_tolerance_percent")
    amount = _amount(price_tolerance_amount, field="price_tolerance_amount")
    with transaction.atomic():
        row, _ = PurchasingSettings.objects.update_or_create(
            trust=trust,
            defaults={
                "one_approver_above": one,
                "two_approvers_above": two,
                "price_tolerance_percent": percent,
                "price_tolerance_amount": amount,
            },
        )
        audit.record(
            kind=SETTINGS_CHANGED,
            actor=actor,
            organisation_id=trust.pk,
            subject=str(trust),
            data={
                "one_approver_above": str(one),
                "two_approvers_above": str(two),
                "price_tolerance_percent": str(percent),
                "price_tolerance_amount": str(amount),
            },
        )
    return row


def _site_values(*, name: str, address: str, postcode: str, gln: str) -> dict:
    values = {
        "name": _text(name, field="name", max_length=120),
        "address": _text(address, field="address", max_length=500),
        "postcode": _text(postcode, field="postcode", max_length=10).upper(),
        "gln": gs1.compact(gln),
    }
    if values["gln"] and (problem := gs1.gln_problem(values["gln"])):
        raise DomainError(f"Enter a valid GLN: {problem}.", field="gln")
    return values


def delivery_site_create(
    *, trust: Organisation, actor: User, acting: Acting, name: str, address: str, postcode: str, gln: str = ""
) -> DeliverySite:
    """A new delivery site of the trust (a trust admin); the GLN, when given, is a valid GS1 GLN."""
    _require_trust_admin(actor=actor, acting=acting, trust=trust)
    values = _site_values(name=name, address=address, postcode=postcode, gln=gln)
    if DeliverySite.objects.filter(trust=trust, name__iexact=values["name"]).exists():
        raise DomainError("The trust has a delivery site of that name already.", field="name")
    with transaction.atomic():
        site = DeliverySite.objects.create(trust=trust, **values)
        audit.record(
            kind=SETTINGS_CHANGED,
            actor=actor,
            organisation_id=trust.pk,
            subject=f"Delivery site {site.name}",
            data={"delivery_site": site.pk, "created": True},
        )
    return site


def delivery_site_change(
    *,
    site: DeliverySite,
    actor: User,
    acting: Acting,
    name: str,
    address: str,
    postcode: str,
    gln: str = "",
    is_active: bool = True,
) -> DeliverySite:
    """Change a delivery site (orders keep the address they were placed with)."""
    _require_trust_admin(actor=actor, acting=acting, trust=site.trust)
    values = _site_values(name=name, address=address, postcode=postcode, gln=gln)
    if (
        DeliverySite.objects.filter(trust=site.trust, name__iexact=values["name"])
        .exclude(pk=site.pk)
        .exists()
    ):
        raise DomainError("The trust has a delivery site of that name already.", field="name")
    with transaction.atomic():
        DeliverySite.objects.filter(pk=site.pk).update(is_active=bool(is_active), **values)
        audit.record(
            kind=SETTINGS_CHANGED,
            actor=actor,
            organisation_id=site.trust_id,
            subject=f"Delivery site {values['name']}",
            data={"delivery_site": site.pk},
        )
    site.refresh_from_db()
    return site


def cost_centre_create(
    *, trust: Organisation, actor: User, acting: Acting, code: str, name: str
) -> CostCentre:
    """A new cost centre of the trust (a trust admin); codes are unique within the trust."""
    _require_trust_admin(actor=actor, acting=acting, trust=trust)
    code = _text(code, field="code", max_length=20).upper()
    name = _text(name, field="name", max_length=120)
    if CostCentre.objects.filter(trust=trust, code=code).exists():
        raise DomainError("The trust has a cost centre with that code already.", field="code")
    with transaction.atomic():
        centre = CostCentre.objects.create(trust=trust, code=code, name=name)
        audit.record(
            kind=SETTINGS_CHANGED,
            actor=actor,
            organisation_id=trust.pk,
            subject=f"Cost centre {code}",
            data={"cost_centre": centre.pk, "created": True},
        )
    return centre


def cost_centre_change(
    *, centre: CostCentre, actor: User, acting: Acting, name: str, is_active: bool = True
) -> CostCentre:
    """Rename a cost centre or stop its use for new orders (its code stays: orders name it)."""
    _require_trust_admin(actor=actor, acting=acting, trust=centre.trust)
    name = _text(name, field="name", max_length=120)
    with transaction.atomic():
        CostCentre.objects.filter(pk=centre.pk).update(name=name, is_active=bool(is_active))
        audit.record(
            kind=SETTINGS_CHANGED,
            actor=actor,
            organisation_id=centre.trust_id,
            subject=f"Cost centre {centre.code}",
            data={"cost_centre": centre.pk},
        )
    centre.refresh_from_db()
    return centre


# --- Basket ----------------------------------------------------------------------------------


def basket_get_or_create(*, actor: User, acting: Acting) -> Basket:
    """The actor's basket for the trust the request acts for (a buyer there), made on first use."""
    trust = acting.trust
    if trust is None:
        raise PermissionDenied("Choose the NHS trust you are buying for.", field="acting")
    _require_member(actor=actor, acting=acting, organisation=trust, roles=[Role.BUYER], what="a buyer")
    try:
        with transaction.atomic():
            basket, _ = Basket.objects.get_or_create(buyer=actor, trust=trust)
    except IntegrityError:  # made at the same moment by another request of the same buyer
        basket = Basket.objects.get(buyer=actor, trust=trust)
    return basket


def _check_basket_owner(*, basket: Basket, actor: User) -> None:
    if basket.buyer_id != actor.pk:
        raise NotFound("No such basket.", field="basket")
    if Role.BUYER not in roles_for(actor, basket.trust):
        raise PermissionDenied(f"Only a buyer of {basket.trust.name} may change this basket.", field="basket")


def _loaded_offer(offer: Offer | int) -> Offer:
    pk = offer.pk if isinstance(offer, Offer) else offer
    found = (
        Offer.objects.select_related("supplier", "product__category")
        .prefetch_related("tiers")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound("No such offer.", field="offer")
    return found


def _check_buyable(offer: Offer) -> None:
    reasons = unbuyable_reasons(offer=offer, today=timezone.localdate())
    if reasons:
        raise DomainError(" ".join(reasons), field="offer", code="not_buyable")


def _check_quantity(quantity, *, offer: Offer) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise DomainError("Enter a whole number of packs, 1 or more.", field="quantity")
    if quantity < offer.min_order_packs:
        raise DomainError(
            f"The minimum order is {offer.min_order_packs} packs.", field="quantity", code="below_minimum"
        )
    return quantity


def _seen_price(*, offer: Offer, basket: Basket, quantity: int) -> Decimal:
    return default_strategy().price(offer=offer, buyer=basket.trust, quantity=quantity).pack_price


def basket_line_add(*, basket: Basket, actor: User, offer: Offer | int, quantity: int) -> BasketLine:
    """Put `quantity` packs of a buyable offer in the basket (added to the line already holding it)."""
    _check_basket_owner(basket=basket, actor=actor)
    offer = _loaded_offer(offer)
    _check_buyable(offer)
    with transaction.atomic():
        line = BasketLine.objects.select_for_update().filter(basket=basket, offer=offer).first()
        if (
            isinstance(quantity, int)
            and not isinstance(quantity, bool)
            and quantity >= 1
            and line is not None
        ):
            total = line.quantity + quantity
        else:
            total = quantity
        total = _check_quantity(total, offer=offer)
        seen = _seen_price(offer=offer, basket=basket, quantity=total)
        if line is None:
            line = BasketLine.objects.create(basket=basket, offer=offer, quantity=total, seen_pack_price=seen)
        else:
            BasketLine.objects.filter(pk=line.pk).update(quantity=total, seen_pack_price=seen)
            line.quantity, line.seen_pack_price = total, seen
        Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now())
    return line


def _line_of(*, line: BasketLine | int, basket: Basket) -> BasketLine:
    pk = line.pk if isinstance(line, BasketLine) else line
    found = BasketLine.objects.filter(pk=pk, basket=basket).first()
    if found is None:
        raise NotFound("No such line in your basket.", field="line")
    return found


def basket_line_change(*, basket: Basket, actor: User, line: BasketLine | int, quantity: int) -> BasketLine:
    """Change a line's number of packs (whole, at least the offer's minimum order)."""
    _check_basket_owner(basket=basket, actor=actor)
    line = _line_of(line=line, basket=basket)
    offer = _loaded_offer(line.offer_id)
    quantity = _check_quantity(quantity, offer=offer)
    seen = _seen_price(offer=offer, basket=basket, quantity=quantity)
    with transaction.atomic():
        BasketLine.objects.filter(pk=line.pk).update(quantity=quantity, seen_pack_price=seen)
        Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now())
    line.quantity, line.seen_pack_price = quantity, seen
    return line


def basket_line_remove(*, basket: Basket, actor: User, line: BasketLine | int) -> None:
    """Take a line out of the basket."""
    _check_basket_owner(basket=basket, actor=actor)
    line = _line_of(line=line, basket=basket)
    with transaction.atomic():
        BasketLine.objects.filter(pk=line.pk).delete()
        Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now())


def basket_line_swap(
    *, basket: Basket, actor: User, line: BasketLine | int, offer: Offer | int, quantity: int | None = None
) -> BasketLine:
    """Replace a line's offer by a buyable offer of the same product or an equivalent one (same
    category and unit of measure, the category's attributes equal), keeping the number of units:
    the new line holds enough of its packs for them (at least its minimum), unless `quantity` says.
    A line already holding the new offer takes the quantity instead."""
    _check_basket_owner(basket=basket, actor=actor)
    line = _line_of(line=line, basket=basket)
    old = _loaded_offer(line.offer_id)
    new = _loaded_offer(offer)
    if new.pk == old.pk:
        raise DomainError("Choose a different offer to swap to.", field="offer")
    _check_buyable(new)
    wanted = equivalent_attributes(old.product)
    same = new.product_id == old.product_id
    equivalent = (
        wanted is not None
        and new.product.category_id == old.product.category_id
        and new.product.unit_of_measure == old.product.unit_of_measure
        and all((new.product.attributes or {}).get(k) == v for k, v in wanted.items())
    )
    if not (same or equivalent):
        raise DomainError("That offer is not for the same or an equivalent product.", field="offer")
    if quantity is None:
        quantity = swap_quantity(units=line.quantity * old.units_per_pack, offer=new)
    quantity = _check_quantity(quantity, offer=new)
    seen = _seen_price(offer=new, basket=basket, quantity=quantity)
    with transaction.atomic():
        BasketLine.objects.filter(pk=line.pk).delete()
        swapped, _ = BasketLine.objects.update_or_create(
            basket=basket, offer=new, defaults={"quantity": quantity, "seen_pack_price": seen}
        )
        Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now())
    return swapped


# --- Checkout --------------------------------------------------------------------------------


def _changes(lines: Sequence[BasketLine], prices: Mapping[int, object]) -> list[CheckoutChange]:
    changes = []
    for line in lines:
        price = prices[line.pk]
        reasons = unbuyable_reasons(offer=line.offer, today=timezone.localdate())
        if reasons:
            changes.append(
                CheckoutChange(
                    line.pk, ChangeKind.UNAVAILABLE, f"{line.offer.product.name}: {' '.join(reasons)}"
                )
            )
            continue
        if line.quantity < line.offer.min_order_packs:
            changes.append(
                CheckoutChange(
                    line.pk,
                    ChangeKind.MINIMUM,
                    f"{line.offer.product.name}: the minimum order is {line.offer.min_order_packs} packs.",
                )
            )
        if price.pack_price != line.seen_pack_price:
            changes.append(
                CheckoutChange(
                    line.pk,
                    ChangeKind.PRICE,
                    f"{line.offer.product.name}: the price per pack is now {Money(price.pack_price)}, "
                    f"not {Money(line.seen_pack_price)}.",
                    old_pack_price=line.seen_pack_price,
                    new_pack_price=price.pack_price,
                )
            )
    return changes


def _order_inputs(
    *, trust: Organisation, suppliers: Collection[int], orders: Sequence[OrderInput]
) -> dict[int, tuple[OrderInput, DeliverySite, CostCentre]]:
    given = {o.supplier_id: o for o in orders}
    if missing := set(suppliers) - set(given):
        raise DomainError(
            f"Give the delivery details of every supplier's order ({len(missing)} missing).", field="orders"
        )
    if extra := set(given) - set(suppliers):
        raise DomainError(
            f"{len(extra)} order(s) name a supplier with nothing in the basket.", field="orders"
        )
    sites = {s.pk: s for s in DeliverySite.objects.filter(trust=trust, is_active=True)}
    centres = {c.pk: c for c in CostCentre.objects.filter(trust=trust, is_active=True)}
    today = timezone.localdate()
    checked = {}
    for supplier_id, details in given.items():
        site = sites.get(details.delivery_site_id)
        if site is None:
            raise DomainError("Choose one of the trust's delivery sites.", field="delivery_site")
        centre = centres.get(details.cost_centre_id)
        if centre is None:
            raise DomainError("Choose one of the trust's cost centres.", field="cost_centre")
        if details.required_by is not None and (
            not isinstance(details.required_by, dt.date) or details.required_by < today
        ):
            raise DomainError("The required-by date is today or later.", field="required_by")
        _text(details.note, field="note", required=False)
        checked[supplier_id] = (details, site, centre)
    return checked


def _next_numbers(trust: Organisation, count: int) -> list[str]:
    """The trust's next `count` order numbers, e.g. RR8-PO-000123, from its counter row, locked
    (select_for_update) until the checkout commits, so two checkouts never share a number."""
    counter = OrderCounter.objects.select_for_update().filter(trust=trust).first()
    if counter is None:
        # The trust's first checkout makes its counter; get_or_create survives another checkout
        # making it at the same moment (it reads the winner's row after the unique key refuses ours).
        OrderCounter.objects.get_or_create(trust=trust)
        counter = OrderCounter.objects.select_for_update().get(trust=trust)
    first = counter.last_number + 1
    OrderCounter.objects.filter(pk=counter.pk).update(last_number=counter.last_number + count)
    prefix = trust.ods_code or f"T{trust.pk}"
    return [f"{prefix}-PO-{n:06d}" for n in range(first, first + count)]


def _replayed(request: CheckoutRequest, *, actor: User) -> list[PurchaseOrder]:
    if request.buyer_id != actor.pk:
        raise Conflict("That request key was used for another checkout.", field="idempotency_key")
    return list(request.orders.order_by("id"))


def basket_checkout(
    *,
    basket: Basket,
    actor: User,
    acting: Acting,
    idempotency_key: str,
    orders: Sequence[OrderInput],
    confirmed_changes: Collection[str] = (),
    strategy: Strategy | None = None,
) -> list[PurchaseOrder]:
    """Turn the basket into one purchase order per supplier, in one transaction, and submit each.

    Every line is priced again through the strategy; if an offer cannot be bought any more, a
    quantity is below a new minimum, or a price differs from what the buyer last saw and its change
    is not in `confirmed_changes` (the changes' keys), `ChangesToConfirm` is raised and nothing is
    created. Idempotent on `idempotency_key` (unique per trust): the same key again answers the same
    orders and creates nothing. An empty basket is an error.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(f"Send a request key of 1 to {MAX_KEY_LENGTH} characters.", field="idempotency_key")
    trust = basket.trust
    _require_member(actor=actor, acting=acting, organisation=trust, roles=[Role.BUYER], what="a buyer")
    if basket.buyer_id != actor.pk:
        raise NotFound("No such basket.", field="basket")
    strategy = strategy or default_strategy()
    with transaction.atomic():
        # The basket's row lock puts two checkouts of it one after the other: the second sees the
        # first's request (same key) or an empty basket (another key).
        Basket.objects.select_for_update().filter(pk=basket.pk).first()
        existing = CheckoutRequest.objects.filter(trust=trust, key=key).first()
        if existing is not None:
            return _replayed(existing, actor=actor)
        lines = basket_lines(basket=basket)
        if not lines:
            raise DomainError("Your basket is empty.", field="basket", code="empty_basket")
        prices = {
            line.pk: strategy.price(offer=line.offer, buyer=trust, quantity=line.quantity) for line in lines
        }
        confirmed = set(confirmed_changes)
        unconfirmed = [c for c in _changes(lines, prices) if not (c.confirmable and c.key in confirmed)]
        if unconfirmed:
            raise ChangesToConfirm(unconfirmed)
        details = _order_inputs(
            trust=trust, suppliers={line.offer.supplier_id for line in lines}, orders=orders
        )
        try:
            with transaction.atomic():
                request = CheckoutRequest.objects.create(trust=trust, key=key, buyer=actor)
        except IntegrityError:
            # The same key from another basket of the trust committed first.
            return _replayed(CheckoutRequest.objects.get(trust=trust, key=key), actor=actor)
        created = []
        suppliers = sorted({line.offer.supplier for line in lines}, key=lambda s: (s.name.casefold(), s.pk))
        numbers = _next_numbers(trust, len(suppliers))
        for number, supplier in zip(numbers, suppliers, strict=True):
            order_lines = [line for line in lines if line.offer.supplier_id == supplier.pk]
            created.append(
                _order_create(
                    number=number,
                    trust=trust,
                    supplier=supplier,
                    actor=actor,
                    request=request,
                    details=details[supplier.pk],
                    lines=order_lines,
                    prices=prices,
                )
            )
        BasketLine.objects.filter(basket=basket).delete()
        audit.record(
            kind=CHECKOUT,
            actor=actor,
            organisation_id=trust.pk,
            subject=", ".join(o.number for o in created)[:200],
            data={"key": key, "orders": [o.pk for o in created], "lines": len(lines)},
        )
        bands = approval_bands(trust=trust)
        for order in created:
            _submit(order=order, actor=actor, approvals=bands.approvals_for(Money(order.total_excl_vat)))
    return created


def _order_create(*, number, trust, supplier, actor, request, details, lines, prices) -> PurchaseOrder:
    given, site, centre = details
    totals = [prices[line.pk].total for line in lines]
    excl = sum((t.excl_vat for t in totals), Money.zero())
    vat = sum((t.vat for t in totals), Money.zero())
    order = PurchaseOrder.objects.create(
        number=number,
        trust=trust,
        supplier=supplier,
        buyer=actor,
        checkout=request,
        delivery_site=site,
        delivery_name=site.name,
        delivery_address=site.address,
        delivery_postcode=site.postcode,
        delivery_gln=site.gln,
        cost_centre=centre,
        required_by=given.required_by,
        note=(given.note or "").strip(),
        total_excl_vat=excl.rounded().amount,
        total_vat=vat.rounded().amount,
        total_incl_vat=(excl + vat).rounded().amount,
    )
    rows = []
    for position, line in enumerate(lines, start=1):
        price = prices[line.pk]
        offer = line.offer
        rows.append(
            _order_line(
                order=order,
                position=position,
                offer=offer,
                packs=line.quantity,
                pack=price.pack,
                source=price.source,
                reference=price.source_reference,
            )
        )
    OrderLine.objects.bulk_create(rows)
    return order


def _order_line(
    *, order: PurchaseOrder, position: int, offer: Offer, packs: int, pack: Price, source: str, reference: str
) -> OrderLine:
    """An order line at one pack's price (VAT charged on the line), with what the supplier and the
    documents name it by and the price source that set it: checkout's and placed orders' alike."""
    values = _line_values(offer=offer, packs=packs, pack=pack, source=source, reference=reference)
    del values["offer_id"]  # the offer itself, so the line keeps it loaded
    return OrderLine(order=order, line_number=position, offer=offer, **values)


def _line_values(*, offer: Offer, packs: int, pack: Price, source: str, reference: str) -> dict:
    """The columns of an order line but its order and number (`_order_line`'s; `orders_place`
    writes the same two halves as rows, without instances)."""
    return {**_line_described(offer=offer, source=source, reference=reference), **_line_amounts(pack, packs)}


def _line_described(*, offer: Offer, source: str, reference: str) -> dict:
    """What names a line's goods and where its price came from."""
    return {
        "offer_id": offer.pk,
        "product_id": offer.product_id,
        "description": offer.product.name[:200],
        "supplier_sku": offer.supplier_sku,
        "gtin": offer.product.gtin or "",
        "units_per_pack": offer.units_per_pack,
        "price_source": source,
        "price_reference": reference[:100],
    }


def _line_amounts(pack: Price, packs: int) -> dict:
    """A line's packs and money: VAT charged on the line's total."""
    total = pack * packs
    return {
        "packs": packs,
        "pack_price": pack.excl_vat.amount,
        "vat_rate": pack.vat_rate,
        "line_excl_vat": total.excl_vat.rounded().amount,
        "line_vat": total.vat.amount,
        "line_total": total.incl_vat.amount,
    }


# --- Orders placed for trusts (a closed round) -------------------------------------------------


def _next_numbers_many(counts: Mapping[int, int]) -> dict[int, list[str]]:
    """`_next_numbers` for many trusts at once: their counter rows made if missing and locked in
    trust order (so two callers never deadlock), each moved on by its trust's count. On PostgreSQL
    two statements whatever the number of trusts: the missing rows inserted, then one UPDATE that
    locks the rows in trust order, moves each on by its count and answers the new last numbers with
    the trusts' ODS codes."""
    if connection.vendor == "postgresql":
        return _next_numbers_many_pg(counts)
    have = set(OrderCounter.objects.filter(trust_id__in=list(counts)).values_list("trust_id", flat=True))
    if missing := [t for t in counts if t not in have]:
        OrderCounter.objects.bulk_create([OrderCounter(trust_id=t) for t in missing], ignore_conflicts=True)
    counters = (
        OrderCounter.objects.select_for_update()
        .filter(trust_id__in=list(counts))
        .order_by("trust_id")
        .values_list("trust_id", "last_number")
    )
    codes = dict(Organisation.objects.filter(pk__in=list(counts)).values_list("pk", "ods_code"))
    numbers = {}
    for trust_id, last in counters:
        prefix = codes.get(trust_id) or f"T{trust_id}"
        numbers[trust_id] = [f"{prefix}-PO-{n:06d}" for n in range(last + 1, last + counts[trust_id] + 1)]
    # One UPDATE per distinct count (a round's close: one), not a CASE of every trust.
    by_count: dict[int, list[int]] = {}
    for trust_id, count in counts.items():
        by_count.setdefault(count, []).append(trust_id)
    for count, trust_ids in by_count.items():
        OrderCounter.objects.filter(trust_id__in=trust_ids).update(last_number=F("last_number") + count)
    return numbers


def _next_numbers_many_pg(counts: Mapping[int, int]) -> dict[int, list[str]]:
    counter = OrderCounter._meta.db_table
    organisation = Organisation._meta.db_table
    trust_ids = sorted(counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {counter} (trust_id, last_number) SELECT unnest(%s::bigint[]), 0 "
            "ON CONFLICT (trust_id) DO NOTHING",
            [trust_ids],
        )
        # The CTE takes the row locks in trust order (a LockRows above the sort), before the UPDATE.
        cursor.execute(
            # Names from the models only; every value is a parameter.
            f"WITH locked AS MATERIALIZED (SELECT trust_id FROM {counter} WHERE trust_id = ANY(%s) "  # noqa: S608
            "ORDER BY trust_id FOR UPDATE) "
            f"UPDATE {counter} AS c SET last_number = c.last_number + v.n "
            f"FROM locked, unnest(%s::bigint[], %s::integer[]) AS v(trust_id, n), {organisation} AS o "
            "WHERE c.trust_id = locked.trust_id AND v.trust_id = c.trust_id AND o.id = c.trust_id "
            "RETURNING c.trust_id, c.last_number, o.ods_code",
            [trust_ids, trust_ids, [counts[t] for t in trust_ids]],
        )
        numbers = {}
        for trust_id, last, code in cursor.fetchall():
            first = last - counts[trust_id] + 1
            prefix = code or f"T{trust_id}"
            numbers[trust_id] = [f"{prefix}-PO-{n:06d}" for n in range(first, last + 1)]
    return numbers


def _check_placement(placement: Placement) -> None:
    key = placement.key
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(f"Give a key of 1 to {MAX_KEY_LENGTH} characters.", field="key")
    if not placement.lines:
        raise DomainError("An order has at least one line.", field="lines")
    if len({line.offer.supplier_id for line in placement.lines}) != 1:
        raise DomainError("An order's lines are all from one supplier.", field="lines")
    for line in placement.lines:
        if isinstance(line.packs, bool) or not isinstance(line.packs, int) or line.packs < 1:
            raise DomainError("Enter a whole number of packs, 1 or more.", field="packs")
        _amount(line.pack_price, field="pack_price")


def orders_place(*, placements: Sequence[Placement]) -> list[PurchaseOrder]:
    """Place purchase orders for trusts at prices set elsewhere (the orders of a closed round): each
    placement one order to its lines' supplier, numbered from the trust's counter, with its lines
    keeping their price source and reference, then submitted through the trust's approval bands
    like a checkout's orders (straight to the supplier under the no-approval band, else to the
    approvers), with events, audit and emails on commit.

    Idempotent on each placement's key (unique per trust, as a checkout's request key): a key the
    trust has used already answers that order and places nothing. Set-based: a fixed number of
    statements however many orders, so a round of hundreds of trusts closes in one short transaction.
    Answers the orders in the placements' order.
    """
    for placement in placements:
        _check_placement(placement)
    if len({(p.trust_id, p.key) for p in placements}) != len(placements):
        raise DomainError("Each order placed for a trust has its own key.", field="key")
    if not placements:
        return []
    trust_ids = sorted({p.trust_id for p in placements})
    with transaction.atomic():
        used = {
            (r.trust_id, r.key): r
            for r in CheckoutRequest.objects.filter(
                trust_id__in=trust_ids, key__in={p.key for p in placements}
            )
        }
        answered: dict[tuple[int, str], PurchaseOrder] = {}
        if used:
            by_request = {r.pk: k for k, r in used.items()}
            for order in PurchaseOrder.objects.filter(checkout__in=list(by_request)):
                answered[by_request[order.checkout_id]] = order
        fresh = [p for p in placements if (p.trust_id, p.key) not in used]
        if fresh:
            for (trust_id, key), order in _orders_create(fresh).items():
                answered[(trust_id, key)] = order
    return [answered[(p.trust_id, p.key)] for p in placements if (p.trust_id, p.key) in answered]


# The columns `orders_place` writes for its orders and their lines (`common.bulk.insert_rows`: rows,
# not instances); the rest take their defaults.
_ORDER_COLUMNS = (
    "number",
    "trust_id",
    "supplier_id",
    "buyer_id",
    "checkout_id",
    "delivery_site_id",
    "delivery_name",
    "delivery_address",
    "delivery_postcode",
    "delivery_gln",
    "cost_centre_id",
    "required_by",
    "note",
    "approvals_required",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "created_at",
    "updated_at",
    "state",  # last: the state the steps reached, known only after them
)
_DESCRIBED_COLUMNS = (
    "offer_id",
    "product_id",
    "description",
    "supplier_sku",
    "gtin",
    "units_per_pack",
    "price_source",
    "price_reference",
)
_AMOUNT_COLUMNS = ("packs", "pack_price", "vat_rate", "line_excl_vat", "line_vat", "line_total")
_LINE_COLUMNS = ("order_id", "line_number", *_DESCRIBED_COLUMNS, *_AMOUNT_COLUMNS)


@lru_cache(maxsize=8192)
def _placed_amounts(pack_price: Decimal, vat_rate: Decimal, packs: int) -> tuple[tuple, Price]:
    """A placed line's money columns (in `_LINE_COLUMNS`' order) and its total as a `Price`, for a
    price per pack, VAT rate and number of packs: pure, so kept for the process (a round's orders,
    and the next round's, repeat them)."""
    pack = Price(excl_vat=Money(pack_price).rounded(), vat_rate=vat_rate)
    amounts = _line_amounts(pack, packs)
    return tuple(amounts[c] for c in _AMOUNT_COLUMNS), pack * packs


@lru_cache(maxsize=8192)
def _placed_totals(keys: tuple[tuple[Decimal, Decimal, int], ...]) -> tuple[Decimal, Decimal, Decimal]:
    """An order's totals excluding VAT, VAT and including it, from its lines' `_placed_amounts` keys
    (summed unrounded, then rounded, as a checkout's)."""
    totals = [_placed_amounts(*key)[1] for key in keys]
    excl = sum((t.excl_vat for t in totals), Money.zero())
    vat = sum((t.vat for t in totals), Money.zero())
    return excl.rounded().amount, vat.rounded().amount, (excl + vat).rounded().amount


@lru_cache(maxsize=1)
def _order_fields() -> tuple[list[str], dict[str, object]]:
    """PurchaseOrder's columns in its fields' order, and the defaults of those `orders_place` does
    not set."""
    names = [f.attname for f in PurchaseOrder._meta.concrete_fields]
    defaults = {
        f.attname: None if f.primary_key else f.get_default()
        for f in PurchaseOrder._meta.concrete_fields
        if f.attname not in _ORDER_COLUMNS
    }
    return names, defaults


def _order_instance(row: tuple) -> PurchaseOrder:
    """The order for a row of `_ORDER_COLUMNS`, made as Django makes one it has read (its fields'
    values in order): no keyword handling, no related objects set."""
    names, defaults = _order_fields()
    values = {**defaults, **dict(zip(_ORDER_COLUMNS, row, strict=True))}
    return PurchaseOrder(*[values[name] for name in names])


def _priced_lines(placement: Placement, cache: dict) -> tuple[list[tuple], Decimal, Decimal, Decimal]:
    """A placement's line rows (less the order id) and its totals excluding VAT, VAT and including
    it, worked out as a checkout's (`_line_described`, `_line_amounts`, `Price`). A round's orders
    share their offer and price and differ in packs: each offer is described once a call, each price
    and number of packs (`_placed_amounts`) and each order's set of them (`_placed_totals`) once."""
    rows, keys = [], []
    for position, line in enumerate(placement.lines, start=1):
        described_key = (line.offer.pk, line.price_source, line.price_reference)
        described = cache.get(described_key)
        if described is None:
            values = _line_described(
                offer=line.offer, source=line.price_source, reference=line.price_reference
            )
            described = cache[described_key] = tuple(values[c] for c in _DESCRIBED_COLUMNS)
        key = (Decimal(line.pack_price), Decimal(line.offer.vat_rate), line.packs)
        rows.append((position, *described, *_placed_amounts(*key)[0]))
        keys.append(key)
    return (rows, *_placed_totals(tuple(keys)))


def _orders_create(placements: Sequence[Placement]) -> dict[tuple[int, str], PurchaseOrder]:
    """Write the placements' orders. Rows, not instances, for everything but the orders themselves
    (the listeners and the caller get those): the checkout requests, lines, events and audit go in
    with `common.bulk.insert_rows` (COPY on PostgreSQL), a statement or two each however many orders,
    and each order is written once, at the state its submit (and send) reached."""
    sites = {
        row["pk"]: row
        for row in DeliverySite.objects.filter(pk__in={p.delivery_site_id for p in placements}).values(
            "pk", "trust_id", "name", "address", "postcode", "gln"
        )
    }
    centres = dict(
        CostCentre.objects.filter(pk__in={p.cost_centre_id for p in placements}).values_list("pk", "trust_id")
    )
    buyers = User.objects.in_bulk({p.buyer_id for p in placements})
    for p in placements:
        site = sites.get(p.delivery_site_id)
        if site is None or site["trust_id"] != p.trust_id:
            raise DomainError("Choose one of the trust's delivery sites.", field="delivery_site")
        if centres.get(p.cost_centre_id) != p.trust_id:
            raise DomainError("Choose one of the trust's cost centres.", field="cost_centre")
        if p.buyer_id not in buyers:
            raise DomainError("No such buyer.", field="buyer")
    request_ids = insert_rows(
        CheckoutRequest,
        ("trust_id", "key", "buyer_id"),
        [(p.trust_id, p.key, p.buyer_id) for p in placements],
    )
    counts: dict[int, int] = {}
    for p in placements:
        counts[p.trust_id] = counts.get(p.trust_id, 0) + 1
    numbers = _next_numbers_many(counts)
    given = {trust_id: iter(found) for trust_id, found in numbers.items()}
    stored = {s.trust_id: s for s in PurchasingSettings.objects.filter(trust_id__in=list(counts))}
    default = PurchasingSettings()  # the defaults, for trusts that have not set their own
    bands: dict[int, ApprovalBands] = {}
    for trust_id in counts:
        kept = stored.get(trust_id, default)
        bands[trust_id] = ApprovalBands(Money(kept.one_approver_above), Money(kept.two_approvers_above))
    now = timezone.now()
    cache: dict = {}
    orders, order_rows, line_rows = [], [], []
    straight, waiting = [], []
    for p, request_id in zip(placements, request_ids, strict=True):
        site = sites[p.delivery_site_id]
        rows, excl, vat, incl = _priced_lines(p, cache)
        # Submitted as a checkout's orders are: the trust's bands, less the approvals given already.
        required = max(0, bands[p.trust_id].approvals_for(Money(excl)) - p.approvals_given)
        base = (
            next(given[p.trust_id]),
            p.trust_id,
            p.lines[0].offer.supplier_id,
            p.buyer_id,
            request_id,
            site["pk"],
            site["name"],
            site["address"],
            site["postcode"],
            site["gln"],
            p.cost_centre_id,
            p.required_by,
            (p.note or "").strip(),
            required,
            excl,
            vat,
            incl,
            now,
            now,
            S.DRAFT,
        )
        order = _order_instance(base)
        orders.append(order)
        order_rows.append(base[:-1])
        line_rows.append(rows)
        (waiting if required else straight).append(order)
    steps: list[_Step] = []
    if straight:
        steps += _steps(
            orders=straight,
            name="submit",
            targets=[S.APPROVED] * len(straight),
            actors=[buyers[o.buyer_id] for o in straight],
            data=[{"approvals_required": 0}] * len(straight),
            then=("send", S.SENT),
        )
    if waiting:
        steps += _steps(
            orders=waiting,
            name="submit",
            targets=[S.AWAITING_APPROVAL] * len(waiting),
            actors=[buyers[o.buyer_id] for o in waiting],
            data=[{"approvals_required": o.approvals_required} for o in waiting],
        )
    # Each order written once, at the state its steps reached (no draft row updated twice).
    ids = insert_rows(
        PurchaseOrder,
        _ORDER_COLUMNS,
        [(*row, order.state) for row, order in zip(order_rows, orders, strict=True)],
    )
    for order, pk in zip(orders, ids, strict=True):
        order.pk = pk
    insert_rows(
        OrderLine,
        _LINE_COLUMNS,
        [(order.pk, *row) for order, rows in zip(orders, line_rows, strict=True) for row in rows],
    )
    # One record of the placing naming every order, as a checkout has one; each step is audited too.
    keys = sorted({p.key for p in placements})
    audit.record(
        kind=PLACED,
        organisation_id=placements[0].trust_id if len(counts) == 1 else None,
        subject=f"{len(orders)} order(s): {', '.join(keys)}"[:200],
        data={"keys": keys, "orders": ids},
    )
    _steps_record(steps)
    return {(p.trust_id, p.key): order for p, order in zip(placements, orders, strict=True)}


# --- Order transitions -----------------------------------------------------------------------


def _lock(*, order: PurchaseOrder | int, acting: Acting) -> PurchaseOrder:
    """The order's row, locked for this transaction, if the acting organisation may see it."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    locked = PurchaseOrder.objects.select_for_update().filter(pk=pk).first()
    organisation = acting.organisation
    visible = (
        locked is not None
        and organisation is not None
        and (
            organisation.pk == locked.trust_id
            or (organisation.pk == locked.supplier_id and locked.state in SUPPLIER_VISIBLE_STATES)
        )
    )
    if not visible:
        raise NotFound("No such order.", field="order")
    return locked


def _check(*, order: PurchaseOrder, name: str, actor: User, acting: Acting) -> None:
    """The actor is on the transition's side of this order, and the table allows it from here."""
    transition = TRANSITIONS[name]
    side = transition.side
    if side == Side.SYSTEM:
        raise PermissionDenied("The marketplace does this itself.", field="order")
    organisation = order.supplier if side == Side.SUPPLIER else order.trust
    what = {Side.BUYER: "a buyer", Side.APPROVER: "an approver", Side.SUPPLIER: "the supplier"}[side]
    _require_member(actor=actor, acting=acting, organisation=organisation, roles=SIDE_ROLES[side], what=what)
    if order.state not in transition.sources:
        raise Conflict(
            f"Order {order.number} is {order.get_state_display().lower()}: it cannot be "
            f"{transition.label.lower()} now.",
            field="state",
            code="transition_not_allowed",
        )


class _Step(NamedTuple):
    """One order's step, taken in memory by `_steps` and written by `_steps_record`."""

    order: PurchaseOrder
    transition: str
    from_state: str
    to_state: str
    actor: User | None
    note: str
    data: dict


def _steps(
    *,
    orders: Sequence[PurchaseOrder],
    name: str,
    targets: Sequence[str],
    actors: Sequence[User | None],
    note: str = "",
    data: Sequence[dict | None] = (),
    then: tuple[str, str] | None = None,
) -> list[_Step]:
    """THE one place an order changes state, checked against the transition table; the caller writes
    the orders (`_move_many` updates them, `orders_place` inserts new ones at the state reached) and
    `_steps_record` the rest. `then` is a step of the marketplace's own (name, target) that follows
    at once (submit, then send)."""
    count = len(orders)
    plan = [(name, list(targets), list(actors), list(data) or [None] * count, note)]
    if then is not None:
        plan.append((then[0], [then[1]] * count, [None] * count, [None] * count, ""))
    taken = []
    for step, step_targets, step_actors, step_data, step_note in plan:
        transition = TRANSITIONS[step]
        for order, target, actor, carried in zip(orders, step_targets, step_actors, step_data, strict=True):
            if order.state not in transition.sources or target not in transition.targets:
                raise Conflict(f"{order.number}: {order.state} -> {target} is not a {step}.", field="state")
            source = order.state
            order.state = target
            taken.append(_Step(order, step, source, target, actor, step_note, carried or {}))
    return taken


def _steps_record(steps: Sequence[_Step]) -> list[int]:
    """What follows every step of an order: its `OrderEvent`, its audit record, the order listeners
    (in this transaction: one that raises undoes the step) and the email, queued on commit. Many
    steps are written in a statement or two each (`common.bulk.insert_rows`); the event ids."""
    entries = [
        {
            "kind": ORDER_KINDS[step.transition],
            "actor": step.actor,
            "organisation_id": step.order.trust_id or step.order.commissioner_id,
            "subject": step.order.number,
            "data": {
                "order": step.order.pk,
                "from": step.from_state,
                "to": step.to_state,
                **({"note": step.note} if step.note else {}),
                **step.data,
            },
        }
        for step in steps
    ]
    if len(steps) == 1:
        step = steps[0]
        event = OrderEvent.objects.create(
            order=step.order,
            transition=step.transition,
            from_state=step.from_state,
            to_state=step.to_state,
            actor=step.actor,
            note=step.note,
            data=step.data,
        )
        audit.record(**entries[0])
        ids = [event.pk]
    else:
        ids = insert_rows(
            OrderEvent,
            ("order_id", "transition", "from_state", "to_state", "actor_id", "note", "data"),
            [
                (
                    s.order.pk,
                    s.transition,
                    s.from_state,
                    s.to_state,
                    s.actor.pk if s.actor is not None else None,
                    s.note,
                    s.data,
                )
                for s in steps
            ],
        )
        audit.record_many(entries=entries)
    for step in steps:
        for listener in _order_listeners:
            # In the transition's transaction: a listener that refuses (raises) undoes the transition.
            listener(
                order=step.order,
                transition=step.transition,
                source=step.from_state,
                target=step.to_state,
                actor=step.actor,
                note=step.note,
            )
    if len(ids) == 1:
        transaction.on_commit(lambda: _queue_notification(ids[0]))
    else:
        transaction.on_commit(lambda: _queue_notifications(ids))
    return ids


def _move(
    *,
    order: PurchaseOrder,
    name: str,
    target: str,
    actor: User | None,
    note: str = "",
    data: dict | None = None,
    update_fields: Sequence[str] = (),
) -> None:
    """One order's step (the usual case of `_move_many`)."""
    _move_many(
        orders=[order],
        name=name,
        targets=[target],
        actors=[actor],
        note=note,
        data=[data],
        update_fields=update_fields,
    )


def _move_many(
    *,
    orders: Sequence[PurchaseOrder],
    name: str,
    targets: Sequence[str],
    actors: Sequence[User | None],
    note: str = "",
    data: Sequence[dict | None] = (),
    update_fields: Sequence[str] = (),
    then: tuple[str, str] | None = None,
) -> None:
    """Orders already written take a step (`_steps`, then `then`): one UPDATE to the last state, and
    each step its event, audit and email (`_steps_record`), in a fixed number of statements."""
    steps = _steps(orders=orders, name=name, targets=targets, actors=actors, note=note, data=data, then=then)
    now = timezone.now()
    for order in orders:
        order.updated_at = now
    fields = ["state", "updated_at", *update_fields]
    if len(orders) == 1:
        orders[0].save(update_fields=fields)
    else:
        # One UPDATE per set of values the step wrote (one or two), not a CASE of every order.
        groups: dict[tuple, list[int]] = {}
        for order in orders:
            groups.setdefault(tuple(getattr(order, f) for f in fields), []).append(order.pk)
        for values, ids in groups.items():
            PurchaseOrder.objects.filter(pk__in=ids).update(**dict(zip(fields, values, strict=True)))
    _steps_record(steps)


def _queue_notification(event_id: int) -> None:
    from purchasing.tasks import order_event_notify

    order_event_notify.delay(event_id)


def _queue_notifications(event_ids: Sequence[int]) -> None:
    from purchasing.tasks import order_events_notify

    order_events_notify.delay(list(event_ids))


def _submit(*, order: PurchaseOrder, actor: User, approvals: int) -> None:
    """After checkout: straight to approved and sent under the no-approval band, else to the queue."""
    if approvals == 0:
        _move(order=order, name="submit", target=S.APPROVED, actor=actor, data={"approvals_required": 0})
        _move(order=order, name="send", target=S.SENT, actor=None)
        return
    order.approvals_required = approvals
    _move(
        order=order,
        name="submit",
        target=S.AWAITING_APPROVAL,
        actor=actor,
        data={"approvals_required": approvals},
        update_fields=["approvals_required"],
    )


def order_approve(
    *, order: PurchaseOrder | int, actor: User, acting: Acting, note: str = ""
) -> PurchaseOrder:
    """An approver of the trust approves (never their own order, never twice). The last approval
    needed makes the order approved and sends it to the supplier."""
    note = _text(note, field="note", required=False)
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="approve", actor=actor, acting=acting)
        if locked.buyer_id == actor.pk:
            raise PermissionDenied("Nobody approves their own order.", field="order", code="own_order")
        if OrderApproval.objects.filter(order=locked, approver=actor).exists():
            raise Conflict(
                "You have approved this order already: another approver must approve it.",
                field="order",
                code="approved_already",
            )
        OrderApproval.objects.create(order=locked, approver=actor)
        given = OrderApproval.objects.filter(order=locked).count()
        done = given >= locked.approvals_required
        _move(
            order=locked,
            name="approve",
            target=S.APPROVED if done else S.AWAITING_APPROVAL,
            actor=actor,
            note=note,
            data={"approval": given, "of": locked.approvals_required},
        )
        if done:
            _move(order=locked, name="send", target=S.SENT, actor=None)
    return locked


def order_reject(*, order: PurchaseOrder | int, actor: User, acting: Acting, reason: str) -> PurchaseOrder:
    """An approver of the trust turns the order down, saying why (the buyer is told)."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="reject", actor=actor, acting=acting)
        if locked.buyer_id == actor.pk:
            raise PermissionDenied("Nobody decides on their own order.", field="order", code="own_order")
        _move(order=locked, name="reject", target=S.REJECTED, actor=actor, note=reason)
    return locked


def order_acknowledge(
    *, order: PurchaseOrder | int, actor: User, acting: Acting, expected_delivery: dt.date, note: str = ""
) -> PurchaseOrder:
    """The supplier accepts the order and says when it expects to deliver."""
    note = _text(note, field="note", required=False)
    if not isinstance(expected_delivery, dt.date):
        raise DomainError("Enter the expected delivery date.", field="expected_delivery")
    if expected_delivery < timezone.localdate():
        raise DomainError("The expected delivery date is today or later.", field="expected_delivery")
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="acknowledge", actor=actor, acting=acting)
        locked.expected_delivery = expected_delivery
        _move(
            order=locked,
            name="acknowledge",
            target=S.ACKNOWLEDGED,
            actor=actor,
            note=note,
            data={"expected_delivery": expected_delivery.isoformat()},
            update_fields=["expected_delivery"],
        )
    return locked


def order_supplier_reject(
    *, order: PurchaseOrder | int, actor: User, acting: Acting, reason: str
) -> PurchaseOrder:
    """The supplier declines the order, saying why."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="supplier_reject", actor=actor, acting=acting)
        _move(order=locked, name="supplier_reject", target=S.REJECTED, actor=actor, note=reason)
    return locked


def _quantities(
    *, lines: Sequence[OrderLine], given: QuantityByLine | None, room: Mapping[int, int], verb: str
) -> dict[int, int]:
    """Packs per line, checked: whole, 0 or more, within `room` (what is left to dispatch or
    receive); all of the room when `given` is None. At least one pack in all."""
    if given is None:
        chosen = {line.pk: room[line.pk] for line in lines if room[line.pk]}
    else:
        known = {line.pk: line for line in lines}
        chosen = {}
        for line_id, packs in given.items():
            line = known.get(line_id)
            if line is None:
                raise DomainError("A line given is not on this order.", field="lines")
            if isinstance(packs, bool) or not isinstance(packs, int) or packs < 0:
                raise DomainError(f"Line {line.line_number}: enter a whole number of packs.", field="lines")
            if packs > room[line_id]:
                raise DomainError(
                    f"Line {line.line_number}: {packs} packs, more than the {room[line_id]} left to {verb}.",
                    field="lines",
                    code="too_many",
                )
            if packs:
                chosen[line_id] = packs
    if not chosen:
        raise DomainError(f"Nothing to {verb}: give at least one pack.", field="lines")
    return chosen


def order_dispatch(
    *,
    order: PurchaseOrder | int,
    actor: User,
    acting: Acting,
    tracking_reference: str,
    quantities: QuantityByLine | None = None,
) -> PurchaseOrder:
    """The supplier dispatches all that is left (`quantities` None) or some packs of some lines,
    never more than ordered: the order is then dispatched, or part dispatched."""
    tracking = _text(tracking_reference, field="tracking_reference", max_length=100)
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="dispatch", actor=actor, acting=acting)
        lines = list(OrderLine.objects.filter(order=locked).order_by("line_number"))
        chosen = _quantities(
            lines=lines,
            given=quantities,
            room={x.pk: x.packs - x.packs_dispatched for x in lines},
            verb="dispatch",
        )
        for line in lines:
            line.packs_dispatched += chosen.get(line.pk, 0)
        OrderLine.objects.bulk_update(lines, ["packs_dispatched"])
        if any(line.packs_received for line in lines):
            target = S.PART_RECEIVED
        elif all(line.packs_dispatched == line.packs for line in lines):
            target = S.DISPATCHED
        else:
            target = S.PART_DISPATCHED
        _move(
            order=locked,
            name="dispatch",
            target=target,
            actor=actor,
            data={"tracking_reference": tracking, "packs": {str(k): v for k, v in chosen.items()}},
        )
    return locked


def order_receive(
    *,
    order: PurchaseOrder | int,
    actor: User,
    acting: Acting,
    quantities: QuantityByLine | None = None,
    note: str = "",
) -> PurchaseOrder:
    """A buyer of the trust records what arrived: everything dispatched and not yet received
    (`quantities` None) or some packs, never more than dispatched. The received lines go into the
    trust's purchase history (`pricing.services.purchase_lines_record`)."""
    note = _text(note, field="note", required=False)
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="receive", actor=actor, acting=acting)
        lines = list(OrderLine.objects.filter(order=locked).order_by("line_number"))
        chosen = _quantities(
            lines=lines,
            given=quantities,
            room={x.pk: x.packs_dispatched - x.packs_received for x in lines},
            verb="receive",
        )
        for line in lines:
            line.packs_received += chosen.get(line.pk, 0)
        OrderLine.objects.bulk_update(lines, ["packs_received"])
        target = S.RECEIVED if all(line.packs_received == line.packs for line in lines) else S.PART_RECEIVED
        _move(
            order=locked,
            name="receive",
            target=target,
            actor=actor,
            note=note,
            data={"packs": {str(k): v for k, v in chosen.items()}},
        )
        _record_purchase_history(order=locked, lines=lines)
    return locked


def _record_purchase_history(*, order: PurchaseOrder, lines: Sequence[OrderLine]) -> None:
    """What has been received so far, line by line (recording a line again replaces it)."""
    supplier_name = Organisation.objects.filter(pk=order.supplier_id).values_list("name", flat=True).first()
    received = [
        PurchaseLineInput(
            order_reference=order.number,
            line_number=line.line_number,
            order_date=timezone.localtime(order.created_at).date(),
            supplier_name=supplier_name or "",
            description=line.description,
            quantity_packs=Decimal(line.packs_received),
            units_per_pack=line.units_per_pack,
            pack_price=line.pack_price,
            product_id=line.product_id,
            gtin=line.gtin,
            supplier_sku=line.supplier_sku,
        )
        for line in lines
        if line.packs_received
    ]
    if received:
        purchase_lines_record(trust=order.trust, lines=received)


def order_invoice(
    *,
    order: PurchaseOrder | int,
    actor: User,
    acting: Acting,
    invoice_number: str,
    lines: Mapping[int, tuple[int, Decimal]],
) -> PurchaseOrder:
    """The supplier invoices the order: its invoice number and, per order line, the packs and the
    price per pack (excluding VAT) it charges. The match is `purchasing.selectors.order_match`."""
    number = _text(invoice_number, field="invoice_number", max_length=50)
    if not lines:
        raise DomainError("Give at least one invoiced line.", field="lines")
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="invoice", actor=actor, acting=acting)
        known = {line.pk: line for line in OrderLine.objects.filter(order=locked)}
        rows = []
        for line_id, (packs, price) in lines.items():
            line = known.get(line_id)
            if line is None:
                raise DomainError("An invoiced line is not on this order.", field="lines")
            if isinstance(packs, bool) or not isinstance(packs, int) or packs < 0:
                raise DomainError(f"Line {line.line_number}: enter a whole number of packs.", field="lines")
            rows.append(InvoiceLine(order_line=line, packs=packs, pack_price=_amount(price, field="lines")))
        InvoiceLine.objects.bulk_create(rows)
        locked.invoice_number = number
        _move(
            order=locked,
            name="invoice",
            target=S.INVOICED,
            actor=actor,
            data={"invoice_number": number},
            update_fields=["invoice_number"],
        )
    return locked


def order_cancel(*, order: PurchaseOrder | int, actor: User, acting: Acting, reason: str) -> PurchaseOrder:
    """A buyer of the trust cancels an order before anything is dispatched, saying why."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="cancel", actor=actor, acting=acting)
        _move(order=locked, name="cancel", target=S.CANCELLED, actor=actor, note=reason)
    return locked


def order_close(*, order: PurchaseOrder | int, actor: User, acting: Acting, note: str = "") -> PurchaseOrder:
    """A buyer of the trust closes an invoiced order: nothing more happens to it."""
    note = _text(note, field="note", required=False)
    with transaction.atomic():
        locked = _lock(order=order, acting=acting)
        _check(order=locked, name="close", actor=actor, acting=acting)
        _move(order=locked, name="close", target=S.CLOSED, actor=actor, note=note)
    return locked


# --- Notifications ---------------------------------------------------------------------------


def _emails(organisation_id: int, roles: Sequence[str]) -> list[str]:
    return list(
        Membership.objects.filter(organisation_id=organisation_id, role__in=list(roles), user__is_active=True)
        .values_list("user__email", flat=True)
        .distinct()
    )


def order_event_recipients(*, event: OrderEvent) -> list[str]:
    """Who of the organisations is told of a step: approvers of a trust's order waiting for them, the
    supplier of an order sent or received (or cancelled after it had it) or of a return asked for,
    the buyer of a trust's order of everything else that concerns them. A patient's own emails are
    `patient_event_message`'s."""
    order = event.order
    supplier_roles = SIDE_ROLES[Side.SUPPLIER]
    if event.transition in {"send", "receive", "return_request"} or (
        event.transition == "cancel" and event.from_state in SUPPLIER_VISIBLE_STATES
    ):
        return _emails(order.supplier_id, supplier_roles)
    if order.patient_id is not None:
        return []
    if event.to_state == S.AWAITING_APPROVAL and event.transition == "submit":
        return [e for e in _emails(order.trust_id, [Role.APPROVER]) if e != order.buyer.email]
    if event.transition in {
        "approve",
        "reject",
        "acknowledge",
        "supplier_reject",
        "dispatch",
        "invoice",
        "return_accept",
        "return_refuse",
    }:
        return [order.buyer.email]
    return []


def patient_recipients(*, order: PurchaseOrder) -> list[str]:
    """The patient of a patient's order and the carers they granted (active people with an email)."""
    patient = PatientProfile.objects.select_related("user").get(pk=order.patient_id)
    carers = CarerLink.objects.filter(patient=patient, carer__is_active=True).values_list(
        "carer__email", flat=True
    )
    people = [patient.user.email] if patient.user.is_active else []
    return sorted({*people, *carers} - {""})


def _pounds(amount) -> str:
    return f"£{Decimal(amount):,.2f}"


def patient_event_message(*, event: OrderEvent) -> tuple[str, str] | None:
    """The plain-English email (subject, body) a patient and their carers get for a step of their
    order: placed, waiting for the care coordinator, approved or declined (with the reason), refused
    by the shop (with the reason), on its way, money given back for a return, a return refused.
    None for the other steps."""
    order = event.order
    number, shop = order.number, order.supplier.name
    link = f"{django_settings.SITE_URL}/budgets/orders/{order.pk}/"
    why = f"\n\nThe reason they gave:\n{event.note}" if event.note else ""
    name, to = event.transition, event.to_state
    if name == "submit" and to == S.AWAITING_APPROVAL:
        subject = f"Your order {number} is waiting for your care coordinator"
        text = (
            f"We have your order {number} from {shop}. Your care coordinator needs to check it first. "
            "We will email you when they say yes or no. The money is put aside for now."
        )
    elif name == "submit":
        subject = f"We have your order {number}"
        cost = _pounds(order.total_incl_vat)
        text = f"Thank you. We have your order {number} from {shop}. It costs {cost}."
    elif name == "approve":
        subject = f"Your care coordinator said yes to order {number}"
        text = f"Good news. Your care coordinator said yes. Your order {number} has gone to {shop}."
        why = f"\n\nA note for you:\n{event.note}" if event.note else ""
    elif name == "reject":
        subject = f"Your care coordinator said no to order {number}"
        text = f"Your care coordinator said no to order {number}. The money is back in your budget."
    elif name == "supplier_reject":
        subject = f"{shop} cannot send order {number}"
        text = f"{shop} cannot send your order {number}. The money is back in your budget."
    elif name == "dispatch":
        subject = f"Your order {number} is on its way"
        text = f"{shop} has sent your order {number}."
        if event.data.get("tracking_reference"):
            text += f" The tracking number is {event.data['tracking_reference']}."
        why = ""
    elif name == "return_accept":
        refund = _pounds(event.data.get("refund") or 0)
        subject = f"{refund} is back in your budget"
        text = (
            f"{shop} has the item you sent back from order {number}. "
            f"We gave {refund} back to you. If you paid part by card, that part goes back to your card."
        )
        why = ""
    elif name == "return_refuse":
        subject = f"{shop} said no to your return"
        text = f"{shop} said no to the item you sent back from order {number}."
    else:
        return None
    return subject, f"{text}{why}\n\nSee your order: {link}\n"


# A file to attach to an event's emails: (file name, content, MIME type).
Attachment = tuple[str, bytes, str]


def order_event_notify(
    *, event_id: int, attachments: Callable[[OrderEvent], Sequence[Attachment]] | None = None
) -> int:
    """Email the people a step of an order concerns (plain text); returns how many were sent.
    `attachments(event)` gives files to attach (the order's PDF when it is sent to the supplier:
    purchasing.documents, which sits on top of this module, so the task passes it in). A patient's
    order also tells the patient and their carers in plain English (`patient_event_message`)."""
    event = (
        OrderEvent.objects.select_related(
            "order__buyer", "order__trust", "order__commissioner", "order__supplier"
        )
        .filter(pk=event_id, notified_at__isnull=True)
        .first()
    )
    if event is None:  # gone, or told already
        return 0
    order = event.order
    recipients = order_event_recipients(event=event)
    sender = django_settings.DEFAULT_FROM_EMAIL
    sent = 0
    if recipients:
        subject = f"{order.number}: {event_label(event.transition)} ({order.get_state_display()})"
        buyer = order.trust or order.commissioner  # a patient's order: their ICB
        body = (
            f"Purchase order {order.number} from {buyer.name} to {order.supplier.name} "
            f"is now {order.get_state_display().lower()}.\n"
            f"Total: {Money(order.total_incl_vat)} including VAT.\n"
            + (f"Note: {event.note}\n" if event.note else "")
        )
        files = list(attachments(event)) if attachments is not None else []
        if files:
            messages = [
                EmailMessage(subject, body, sender, [address], attachments=files) for address in recipients
            ]
            sent += get_connection(fail_silently=False).send_messages(messages) or 0
        else:
            sent += send_mass_mail(
                [(subject, body, sender, [address]) for address in recipients], fail_silently=False
            )
    if order.patient_id is not None and (message := patient_event_message(event=event)) is not None:
        people = patient_recipients(order=order)
        sent += send_mass_mail([(*message, sender, [address]) for address in people], fail_silently=False)
    if not sent and not recipients:
        return 0
    OrderEvent.objects.filter(pk=event.pk).update(notified_at=timezone.now())
    return sent


def order_events_mark_told(*, after_id: int) -> int:
    """Mark every order step after the event `after_id` as told, so nobody is emailed about them (a
    demo's history is not news); returns how many. Run inside the transaction that made them: the
    emails queued on its commit then find them told."""
    return OrderEvent.objects.filter(id__gt=after_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )


# --- Patients' orders (personal health budgets) and transition listeners ----------------------


def register_order_listener(listener: Callable[..., None]) -> None:
    """Call `listener(order=, transition=, source=, target=, actor=, note=)` in the transaction of
    every order transition, so a higher layer (personal budgets: post or void the held money) follows
    orders without purchasing importing it. Call from the app's `ready()`; registering twice is once."""
    if listener not in _order_listeners:
        _order_listeners.append(listener)


_buyer_references: list[Callable[[PurchaseOrder], str | None]] = []


def register_buyer_reference(reference: Callable[[PurchaseOrder], str | None]) -> None:
    """Register `reference(order)`: what a higher layer calls the account a patient's order is paid
    from (personal budgets: the budget's reference), printed on the order's documents as the buyer's
    reference. Call from the app's `ready()`; registering twice is once."""
    if reference not in _buyer_references:
        _buyer_references.append(reference)


def buyer_reference(*, order: PurchaseOrder) -> str:
    """The buyer's reference for an order: a trust's cost centre code, or for a patient's order what
    the registered references answer (empty when none does)."""
    if order.trust_id is not None:
        return order.cost_centre.code if order.cost_centre_id else ""
    for reference in _buyer_references:
        if found := reference(order):
            return found
    return ""


MAX_PATIENT_LINES = 50


def _patient_numbers(commissioner: Organisation) -> str:
    """The next patient order number of the ICB, e.g. QWO-PB-000012 (its own counter row, locked)."""
    counter = OrderCounter.objects.select_for_update().filter(trust=commissioner).first()
    if counter is None:
        OrderCounter.objects.get_or_create(trust=commissioner)
        counter = OrderCounter.objects.select_for_update().get(trust=commissioner)
    OrderCounter.objects.filter(pk=counter.pk).update(last_number=counter.last_number + 1)
    prefix = commissioner.ods_code or f"C{commissioner.pk}"
    return f"{prefix}-PB-{counter.last_number + 1:06d}"


def patient_order_place(
    *,
    patient: PatientProfile,
    actor: User,
    lines: Sequence[PatientLine],
    delivery: PatientDelivery,
    idempotency_key: str,
    needs_approval: bool,
    strategy: Strategy | None = None,
    awaiting_payment: bool = False,
) -> tuple[PurchaseOrder, bool]:
    """A patient's order to one supplier (their personal health budget pays: the caller holds the
    money), priced for the patient through the strategy: sent to the supplier at once, or waiting for
    the patient's care coordinator when `needs_approval`, or approved but kept back until the patient's
    card payment is made when `awaiting_payment` (`patient_order_send` / `patient_order_cancel_unpaid`
    then). Idempotent on `idempotency_key` per patient:
    the same key again answers the same order and `False` (not created). The actor is the patient or
    someone who may act for them (a carer, their care coordinator)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(f"Send a request key of 1 to {MAX_KEY_LENGTH} characters.", field="idempotency_key")
    if not patients_for(actor).filter(pk=patient.pk).exists():
        raise NotFound("No such patient.", field="patient")
    if not lines or len(lines) > MAX_PATIENT_LINES:
        raise DomainError(f"Order 1 to {MAX_PATIENT_LINES} items.", field="lines")
    name = _text(delivery.name, field="delivery_name", max_length=120)
    address = _text(delivery.address, field="delivery_address", max_length=500)
    postcode = _text(delivery.postcode, field="delivery_postcode", max_length=10)
    note = _text(delivery.note, field="note", required=False)
    strategy = strategy or default_strategy()
    with transaction.atomic():
        existing = CheckoutRequest.objects.filter(patient=patient, key=key).first()
        if existing is not None:
            return _replayed(existing, actor=actor)[0], False
        offers = {
            o.pk: o
            for o in Offer.objects.select_related("product", "supplier")
            .prefetch_related("tiers")
            .filter(pk__in=[line.offer_id for line in lines])
        }
        packs: dict[int, int] = {}
        for line in lines:
            offer = offers.get(line.offer_id)
            if offer is None:
                raise DomainError("That item is not in the catalogue.", field="offer")
            if line.offer_id in packs:
                raise DomainError("Each item once per order.", field="offer")
            packs[offer.pk] = _check_quantity(line.packs, offer=offer)
        if len({o.supplier_id for o in offers.values()}) != 1:
            raise DomainError("One supplier per order.", field="lines")
        prices = {pk: strategy.price(offer=offers[pk], buyer=patient, quantity=n) for pk, n in packs.items()}
        for pk, price in prices.items():
            if price.problems:
                raise DomainError(f"{offers[pk].product.name}: {' '.join(price.problems)}", field="offer")
        try:
            with transaction.atomic():
                request = CheckoutRequest.objects.create(patient=patient, key=key, buyer=actor)
        except IntegrityError:
            return _replayed(CheckoutRequest.objects.get(patient=patient, key=key), actor=actor)[0], False
        supplier = next(iter(offers.values())).supplier
        totals = [prices[pk].total for pk in packs]
        excl = sum((t.excl_vat for t in totals), Money.zero())
        vat = sum((t.vat for t in totals), Money.zero())
        order = PurchaseOrder.objects.create(
            number=_patient_numbers(patient.commissioner),
            patient=patient,
            commissioner=patient.commissioner,
            supplier=supplier,
            buyer=actor,
            checkout=request,
            delivery_name=name,
            delivery_address=address,
            delivery_postcode=postcode.upper(),
            note=note,
            total_excl_vat=excl.rounded().amount,
            total_vat=vat.rounded().amount,
            total_incl_vat=(excl + vat).rounded().amount,
        )
        rows = []
        for position, (pk, quantity) in enumerate(packs.items(), start=1):
            price, offer = prices[pk], offers[pk]
            rows.append(
                _order_line(
                    order=order,
                    position=position,
                    offer=offer,
                    packs=quantity,
                    pack=price.pack,
                    source=price.source,
                    reference=price.source_reference,
                )
            )
        OrderLine.objects.bulk_create(rows)
        audit.record(
            kind=CHECKOUT,
            actor=actor,
            organisation_id=patient.commissioner_id,
            subject=order.number,
            data={"key": key, "orders": [order.pk], "lines": len(rows), "patient": patient.pk},
        )
        if needs_approval:
            order.approvals_required = 1
            _move(
                order=order,
                name="submit",
                target=S.AWAITING_APPROVAL,
                actor=actor,
                data={"approvals_required": 1, "approver": "care_coordinator"},
                update_fields=["approvals_required"],
            )
        else:
            _move(order=order, name="submit", target=S.APPROVED, actor=actor, data={"approvals_required": 0})
            if not awaiting_payment:
                _move(order=order, name="send", target=S.SENT, actor=None)
    return order, True


def _lock_unpaid_patient_order(order: PurchaseOrder | int) -> PurchaseOrder | None:
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    return PurchaseOrder.objects.select_for_update().filter(pk=pk, patient__isnull=False).first()


def patient_order_send(*, order: PurchaseOrder | int) -> bool:
    """The marketplace sends a patient's order kept back for a card payment, now paid (a system
    move, no person). Once: an order not approved-and-waiting is left alone (`False`)."""
    with transaction.atomic():
        locked = _lock_unpaid_patient_order(order)
        if locked is None or locked.state != S.APPROVED:
            return False
        _move(order=locked, name="send", target=S.SENT, actor=None, note="Card payment made")
    return True


def patient_order_cancel_unpaid(*, order: PurchaseOrder | int, reason: str) -> bool:
    """The marketplace cancels a patient's order kept back for a card payment that was cancelled or
    never made. Once: an order already sent or ended is left alone (`False`)."""
    with transaction.atomic():
        locked = _lock_unpaid_patient_order(order)
        if locked is None or locked.state != S.APPROVED:
            return False
        _move(order=locked, name="cancel", target=S.CANCELLED, actor=None, note=reason)
    return True


def _lock_patient_order_for_coordinator(*, order: PurchaseOrder | int, actor: User) -> PurchaseOrder:
    """A patient's order, locked, if `actor` is that patient's care coordinator (at their ICB)."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    locked = PurchaseOrder.objects.select_for_update().filter(pk=pk, patient__isnull=False).first()
    if locked is None or not (
        PatientProfile.objects.filter(pk=locked.patient_id, care_coordinator=actor).exists()
        and patients_for(actor).filter(pk=locked.patient_id).exists()
    ):
        raise NotFound("No such order.", field="order")
    if locked.state != S.AWAITING_APPROVAL:
        raise Conflict(
            f"Order {locked.number} is {locked.get_state_display().lower()}: it is not waiting for you.",
            field="state",
            code="transition_not_allowed",
        )
    return locked


def patient_order_approve(
    *, order: PurchaseOrder | int, actor: User, note: str = "", send: bool = True
) -> PurchaseOrder:
    """The patient's care coordinator approves an order waiting for them: it goes to the supplier,
    or, with `send=False` (the patient still pays part by card), stays approved and kept back until
    `patient_order_send` (card paid) or `patient_order_cancel_unpaid`."""
    note = _text(note, field="note", required=False)
    with transaction.atomic():
        locked = _lock_patient_order_for_coordinator(order=order, actor=actor)
        OrderApproval.objects.create(order=locked, approver=actor)
        _move(
            order=locked,
            name="approve",
            target=S.APPROVED,
            actor=actor,
            note=note,
            data={"approval": 1, "of": 1},
        )
        if send:
            _move(order=locked, name="send", target=S.SENT, actor=None)
    return locked


def patient_order_decline(*, order: PurchaseOrder | int, actor: User, reason: str) -> PurchaseOrder:
    """The patient's care coordinator declines an order waiting for them, saying why (the patient
    reads the reason)."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        locked = _lock_patient_order_for_coordinator(order=order, actor=actor)
        _move(order=locked, name="reject", target=S.REJECTED, actor=actor, note=reason)
    return locked
