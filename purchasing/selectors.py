"""Read-only queries of purchasing, shaped for pages, the API and documents.

Every read loads what it needs in a fixed number of queries, whatever the number of lines or
orders (tests/purchasing/test_queries.py). Prices come from `catalogue.strategy` only; what peers
pay from `pricing.selectors.peer_prices_many`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, IntegerField, JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalogue.caching import catalogue_cached
from catalogue.models import Offer
from catalogue.selectors import LISTED_PRODUCT_UNREAD, buyable_offer_q, listed_offers_with_prices
from catalogue.strategy import Strategy, default_strategy
from catalogue.types import BuyerPrice
from common.errors import NotFound
from common.money import Money, quantize_money
from organisations.acting import Acting
from organisations.models import Organisation, User
from pricing.selectors import peer_prices_many
from purchasing.models import (
    Basket,
    BasketLine,
    CheckoutRequest,
    CostCentre,
    DeliverySite,
    OrderEvent,
    OrderLine,
    PurchaseOrder,
    PurchasingSettings,
)
from purchasing.states import SUPPLIER_VISIBLE_STATES, OrderState
from purchasing.types import (
    ApprovalBands,
    BasketLineView,
    BasketView,
    CheaperEquivalent,
    LineMatch,
    MatchResult,
    SupplierGroup,
    Tolerance,
)

ZERO = Money.zero()

# --- Settings --------------------------------------------------------------------------------


def purchasing_settings(*, trust: Organisation) -> PurchasingSettings:
    """The trust's settings, or the defaults (an unsaved row) until it has set its own."""
    found = PurchasingSettings.objects.filter(trust=trust).first()
    return found if found is not None else PurchasingSettings(trust=trust)


def approval_bands(*, trust: Organisation) -> ApprovalBands:
    found = purchasing_settings(trust=trust)
    return ApprovalBands(Money(found.one_approver_above), Money(found.two_approvers_above))


def match_tolerance(*, trust: Organisation) -> Tolerance:
    found = purchasing_settings(trust=trust)
    return Tolerance(percent=found.price_tolerance_percent, amount=Money(found.price_tolerance_amount))


def delivery_sites(*, trust: Organisation, include_inactive: bool = False) -> QuerySet[DeliverySite]:
    sites = DeliverySite.objects.filter(trust=trust)
    return sites if include_inactive else sites.filter(is_active=True)


def cost_centres(*, trust: Organisation, include_inactive: bool = False) -> QuerySet[CostCentre]:
    centres = CostCentre.objects.filter(trust=trust)
    return centres if include_inactive else centres.filter(is_active=True)


# --- Basket ----------------------------------------------------------------------------------


def basket_of(*, buyer: User, trust: Organisation) -> Basket | None:
    """The buyer's basket for the trust, if they have started one."""
    return Basket.objects.filter(buyer=buyer, trust=trust).first()


def checkout_key_used(*, trust: Organisation, key: str) -> bool:
    """Whether a checkout of the trust already ran with this request key (the API answers a replay
    200 rather than 201; `services.basket_checkout` is what makes the replay create nothing)."""
    return CheckoutRequest.objects.filter(trust=trust, key=(key or "").strip()).exists()


def _offers_for_pricing(queryset: QuerySet[Offer]) -> QuerySet[Offer]:
    # What the strategy and unbuyable_reasons read, loaded with the offer: no query per offer.
    return queryset.select_related("supplier", "product", "product__category").prefetch_related("tiers")


def basket_lines(*, basket: Basket) -> list[BasketLine]:
    """The basket's lines with everything pricing them reads, in a fixed number of queries."""
    return list(
        BasketLine.objects.filter(basket=basket)
        .select_related("offer__supplier", "offer__product__category")
        .prefetch_related("offer__tiers")
        .order_by("id")
    )


def equivalent_attributes(product) -> dict | None:
    """The attributes that make another product in the same category interchangeable with this one
    (its category's `attribute_names`); None when the category names none or the product lacks one,
    so that only the same product counts as equivalent then."""
    names = product.category.attribute_names or []
    attributes = product.attributes or {}
    if not names or any(name not in attributes for name in names):
        return None
    return {name: attributes[name] for name in names}


def _is_equivalent(candidate, product) -> bool:
    if candidate.product_id == product.pk:
        return True
    wanted = equivalent_attributes(product)
    return (
        wanted is not None
        and candidate.product.category_id == product.category_id
        and candidate.product.unit_of_measure == product.unit_of_measure
        and all((candidate.product.attributes or {}).get(k) == v for k, v in wanted.items())
    )


# Names a JSON key lookup would take for a lookup or transform ("contains", "in", ...), not a key.
_JSON_LOOKUPS = frozenset(JSONField.get_lookups()) | frozenset(KeyTransform.get_lookups())


def _plain_key(name: str) -> bool:
    return name.isidentifier() and "__" not in name and name not in _JSON_LOOKUPS


def _candidates(lines: list[BasketLine], *, today: dt.date) -> list[Offer]:
    """Buyable offers that might replace some line: the same products from any supplier, and products
    of the lines' categories in the same unit of measure (checked for attributes afterwards). One
    query, plus one for their tiers."""
    if not lines:
        return []
    same_kind = Q()
    for line in lines:
        product = line.offer.product
        attributes = equivalent_attributes(product)
        if attributes is not None:
            # The attributes narrow the rows in SQL where their names can be a JSON key lookup (a
            # large category is not loaded whole); _is_equivalent checks them all again in Python.
            same_kind |= Q(
                product__category_id=product.category_id,
                product__unit_of_measure=product.unit_of_measure,
                **{
                    f"product__attributes__{name}": value
                    for name, value in attributes.items()
                    if _plain_key(name) and isinstance(value, str)
                },
            )
    wanted = Q(product_id__in={line.offer.product_id for line in lines}) | same_kind
    return list(
        _offers_for_pricing(Offer.objects.filter(buyable_offer_q(today=today)).filter(wanted)).exclude(
            pk__in=[line.offer_id for line in lines]
        )
    )


def _cheapest_equivalent(
    line: BasketLine, *, candidates: list[Offer], strategy: Strategy, buyer, today: dt.date, line_total: Money
) -> CheaperEquivalent | None:
    product = line.offer.product
    units = line.quantity * line.offer.units_per_pack
    best: CheaperEquivalent | None = None
    for offer in candidates:
        if not _is_equivalent(offer, product):
            continue
        quantity = swap_quantity(units=units, offer=offer)
        price = strategy.price(offer=offer, buyer=buyer, quantity=quantity, on_date=today)
        if price.problems:
            continue
        # Compared per unit wanted: a bigger pack is not a saving because it holds more.
        cost = Money(quantize_money(price.unit.amount * units))
        saving = (line_total - cost).rounded()
        if saving.amount > 0 and (best is None or saving > best.saving):
            best = CheaperEquivalent(
                offer=offer,
                price=price,
                quantity=quantity,
                same_product=offer.product_id == product.pk,
                saving=saving,
            )
    return best


def swap_quantity(*, units: int, offer: Offer) -> int:
    """Packs of `offer` holding at least `units` units, and at least its minimum order."""
    return max(math.ceil(units / offer.units_per_pack), offer.min_order_packs)


def basket_for(
    *, basket: Basket, strategy: Strategy | None = None, on_date: dt.date | None = None
) -> BasketView:
    """The basket as the buyer sees it: lines grouped by supplier (by name), each priced through the
    strategy for the basket's trust with VAT, beside what peers pay (median, target, the trust's own
    past price, the gap to the target in pounds) and the cheapest equivalent with its saving; totals
    per supplier and overall, and the total possible saving. A fixed number of queries."""
    strategy = strategy or default_strategy()
    today = on_date or timezone.localdate()
    trust = basket.trust
    lines = basket_lines(basket=basket)
    peers = peer_prices_many(product_ids={line.offer.product_id for line in lines}, trust=trust)
    candidates = _candidates(lines, today=today)
    by_supplier: dict[int, list[BasketLineView]] = defaultdict(list)
    names: dict[int, str] = {}
    possible = ZERO
    for line in lines:
        price = strategy.price(offer=line.offer, buyer=trust, quantity=line.quantity, on_date=today)
        total = price.total.excl_vat
        peer = peers.get(line.offer.product_id)
        gap = None
        if peer is not None:
            units = line.quantity * line.offer.units_per_pack
            gap = Money(quantize_money((price.unit.amount - peer.target) * units))
        cheaper = _cheapest_equivalent(
            line, candidates=candidates, strategy=strategy, buyer=trust, today=today, line_total=total
        )
        if cheaper is not None:
            possible += cheaper.saving
        by_supplier[line.offer.supplier_id].append(
            BasketLineView(
                line_id=line.pk,
                offer=line.offer,
                quantity=line.quantity,
                price=price,
                seen_pack_price=Money(line.seen_pack_price),
                peer=peer,
                gap_to_target=gap,
                cheaper=cheaper,
            )
        )
        names[line.offer.supplier_id] = line.offer.supplier.name
    groups = []
    for supplier_id in sorted(by_supplier, key=lambda pk: (names[pk].casefold(), pk)):
        views = by_supplier[supplier_id]
        groups.append(
            SupplierGroup(
                supplier_id=supplier_id,
                supplier_name=names[supplier_id],
                lines=tuple(views),
                total_excl_vat=sum((v.total.excl_vat for v in views), ZERO),
                total_vat=sum((v.total.vat for v in views), ZERO),
            )
        )
    return BasketView(
        basket_id=basket.pk,
        trust_id=trust.pk,
        groups=tuple(groups),
        total_excl_vat=sum((g.total_excl_vat for g in groups), ZERO),
        total_vat=sum((g.total_vat for g in groups), ZERO),
        possible_saving=possible,
    )


# --- Orders ----------------------------------------------------------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def orders_page(orders: QuerySet[PurchaseOrder], ids: Sequence[int]) -> list[PurchaseOrder]:
    """The orders of `orders` with these ids, in their order: a page of a long list is paginated over
    the ids alone (an index-only walk of the trust's orders by date, however deep the page), then
    only its rows are loaded with everything they show (bench/purchasing_orders.py)."""
    found = {order.pk: order for order in orders.filter(pk__in=list(ids))}
    return [found[pk] for pk in ids if pk in found]


def orders_for(
    *,
    acting: Acting,
    state: str | None = None,
    supplier_id: int | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> QuerySet[PurchaseOrder]:
    """The orders the acting organisation may see, newest first: a trust's own orders, or the orders
    sent to a supplier (never its drafts or those awaiting approval); nothing for anyone else. Each
    with its trust, supplier, buyer and number of lines, in one query per page."""
    organisation = acting.organisation
    orders = PurchaseOrder.objects.all()
    if organisation is None:
        return orders.none()
    if organisation.is_trust:
        orders = orders.filter(trust=organisation)
    elif organisation.is_supplier:
        orders = orders.filter(supplier=organisation, state__in=list(SUPPLIER_VISIBLE_STATES))
    else:
        return orders.none()
    if state:
        orders = orders.filter(state=state)
    if supplier_id:
        orders = orders.filter(supplier_id=supplier_id)
    # Days as bounds on the timestamp (midnight in the site's time zone), which the indexes on
    # created_at serve; created_at__date would convert every row of the trust first.
    if created_from:
        orders = orders.filter(created_at__gte=_midnight(created_from))
    if created_to:
        orders = orders.filter(created_at__lt=_midnight(created_to + dt.timedelta(days=1)))
    # The number of lines as a subquery per order shown, not a join grouped by order: the join
    # made every page (and its count) group all of a trust's order lines (bench/purchasing_orders.py).
    line_count = (
        OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order").annotate(n=Count("*"))
    )
    return (
        orders.select_related("trust", "supplier", "buyer", "cost_centre")
        .annotate(line_count=Coalesce(Subquery(line_count.values("n"), output_field=IntegerField()), 0))
        .order_by("-created_at", "-id")
    )


def order_for(*, acting: Acting, order_id: int) -> PurchaseOrder:
    """One order the acting organisation may see, with its lines, approvals, events and invoice lines;
    NotFound otherwise (never revealing that it exists)."""
    order = (
        orders_for(acting=acting)
        .filter(pk=order_id)
        .prefetch_related(
            Prefetch(
                "lines", queryset=OrderLine.objects.select_related("invoice_line").order_by("line_number")
            ),
            Prefetch(
                "events", queryset=OrderEvent.objects.select_related("actor").order_by("occurred_at", "id")
            ),
            "approvals__approver",
        )
        .select_related("delivery_site")
        .first()
    )
    if order is None:
        raise NotFound("No such order.", field="order")
    return order


def approval_queue(*, acting: Acting, user: User) -> QuerySet[PurchaseOrder]:
    """Orders of the acting trust waiting for this approver: not their own, not approved by them yet."""
    if acting.trust is None:
        return PurchaseOrder.objects.none()
    return (
        orders_for(acting=acting, state=OrderState.AWAITING_APPROVAL)
        .exclude(buyer=user)
        .exclude(approvals__approver=user)
        .order_by("created_at", "id")
    )


def supplier_inbox(*, acting: Acting) -> QuerySet[PurchaseOrder]:
    """Orders sent to the acting supplier and not yet acknowledged, oldest first."""
    if acting.supplier is None:
        return PurchaseOrder.objects.none()
    return orders_for(acting=acting, state=OrderState.SENT).order_by("created_at", "id")


def order_counts_by_state(*, acting: Acting) -> dict[str, int]:
    """How many orders the acting organisation has in each state (for start pages), one query."""
    rows = (
        orders_for(acting=acting).order_by().values("state").annotate(n=Count("id")).values_list("state", "n")
    )
    return dict(rows)


# --- Three-way match -------------------------------------------------------------------------


def _within(*, ordered: Decimal, invoiced: Decimal, packs: int, tolerance: Tolerance) -> bool:
    difference = abs(invoiced - ordered)
    by_percent = ordered * tolerance.percent / 100
    by_amount = tolerance.amount.amount / packs if packs else Decimal(0)
    return difference <= max(by_percent, by_amount)


def order_match(*, order: PurchaseOrder) -> MatchResult:
    """The order's lines matched three ways: ordered, received and invoiced quantities, and the
    invoiced price against the ordered one within the trust's tolerance (a percentage of the pack
    price, or pounds on the line, whichever allows more). Each discrepancy is named."""
    tolerance = match_tolerance(trust=order.trust)
    lines = OrderLine.objects.filter(order=order).select_related("invoice_line").order_by("line_number")
    matches = []
    for line in lines:
        invoice = getattr(line, "invoice_line", None)
        problems = []
        if line.packs_received < line.packs:
            problems.append(f"{line.packs - line.packs_received} of {line.packs} packs ordered not received.")
        if invoice is None:
            if order.invoice_number:
                problems.append("Not on the invoice.")
        else:
            if invoice.packs != line.packs_received:
                problems.append(f"Invoiced {invoice.packs} packs but {line.packs_received} received.")
            if not _within(
                ordered=line.pack_price, invoiced=invoice.pack_price, packs=invoice.packs, tolerance=tolerance
            ):
                problems.append(
                    f"Invoiced at {Money(invoice.pack_price)} a pack but ordered at {Money(line.pack_price)}."
                )
        matches.append(
            LineMatch(
                line_id=line.pk,
                line_number=line.line_number,
                description=line.description,
                ordered=line.packs,
                received=line.packs_received,
                invoiced=invoice.packs if invoice else None,
                ordered_pack_price=Money(line.pack_price),
                invoiced_pack_price=Money(invoice.pack_price) if invoice else None,
                discrepancies=tuple(problems),
            )
        )
    return MatchResult(
        order_id=order.pk, invoice_number=order.invoice_number, lines=tuple(matches), tolerance=tolerance
    )


# --- Pages -----------------------------------------------------------------------------------


def offer_to_add(*, offer_id: int | None) -> Offer | None:
    """The offer a buyer asks to put in the basket, with what the confirmation names (None if it
    does not exist; whether it can be bought is the basket service's check)."""
    if offer_id is None:
        return None
    return Offer.objects.select_related("product", "supplier").filter(pk=offer_id).first()


def buyable_offers_of(*, product) -> list[Offer]:
    """The product's offers a buyer can put in a basket now, by supplier name: those the product
    page loaded (`live_offers`: catalogue.selectors.live_offers_prefetch, the same rule, kept in the
    shared cache) when it has them, else one query."""
    loaded = getattr(product, "live_offers", None)
    if loaded is not None:
        return sorted(loaded, key=lambda offer: (offer.supplier.name, offer.pk))
    return list(
        Offer.objects.filter(buyable_offer_q(), product=product)
        .select_related("supplier")
        .order_by("supplier__name", "pk")
    )


def cheapest_offers_for(
    *, product_ids: Sequence[int], trust: Organisation, strategy: Strategy | None = None
) -> dict[int, tuple[Offer, BuyerPrice]]:
    """For each product, the buyable offer that costs this trust least per unit at its minimum order,
    with its price from the strategy: what a results card's "Add to basket" puts in the basket.
    The offers, unpriced, are the same for every buyer and kept in the shared cache
    (`catalogue.caching`, two queries when missing: offers, tiers); they are priced for this trust
    on every call."""
    strategy = strategy or default_strategy()
    ids = tuple(sorted(set(product_ids)))
    # What the strategy and the card read (the offer, its tiers, supplier and product's name and
    # whether they are active), not the product's category, description or attributes: every
    # request unpickles these.
    offers = catalogue_cached(
        ("buyable-offers-for-cards", ids),
        lambda: list(
            listed_offers_with_prices(Offer.objects.filter(buyable_offer_q(), product_id__in=ids))
            .select_related("product")
            .defer(*(f"product__{name}" for name in LISTED_PRODUCT_UNREAD))
        ),
    )
    by_product: dict[int, list[Offer]] = {}
    for offer in offers:
        by_product.setdefault(offer.product_id, []).append(offer)
    cheapest: dict[int, tuple[Offer, BuyerPrice]] = {}
    today = timezone.localdate()
    for product_id, candidates in by_product.items():
        priced = [
            (offer, strategy.price(offer=offer, buyer=trust, quantity=offer.min_order_packs, on_date=today))
            for offer in candidates
        ]
        cheapest[product_id] = min(
            priced, key=lambda pair: (pair[1].unit_price, pair[1].pack_price, pair[0].pk)
        )
    return cheapest


def order_suppliers(*, acting: Acting) -> list[tuple[int, str]]:
    """The suppliers of the acting trust's orders (id, name), by name: the order list's filter."""
    if acting.trust is None:
        return []
    rows = (
        PurchaseOrder.objects.filter(trust=acting.trust)
        .order_by("supplier__name", "supplier_id")
        .values_list("supplier_id", "supplier__name")
        .distinct()
    )
    return list(rows)


def start_counts(
    *,
    user: User,
    trust_ids: set[int],
    buyer_trust_ids: set[int],
    approver_trust_ids: set[int],
    supplier_ids: set[int],
) -> dict:
    """What the start page counts for a person across all their organisations at once, in at most
    four queries whatever their number: orders by state per trust and per supplier (what the
    supplier sees), orders waiting for this approver per trust, and basket lines per trust."""
    by_trust: dict[int, dict[str, int]] = defaultdict(dict)
    by_supplier: dict[int, dict[str, int]] = defaultdict(dict)
    approvals: dict[int, int] = {}
    basket_lines_by_trust: dict[int, int] = {}
    if trust_ids:
        rows = (
            PurchaseOrder.objects.filter(trust_id__in=trust_ids)
            .order_by()
            .values_list("trust_id", "state")
            .annotate(n=Count("id"))
        )
        for trust_id, state, n in rows:
            by_trust[trust_id][state] = n
    if buyer_trust_ids:
        basket_lines_by_trust = dict(
            BasketLine.objects.filter(basket__buyer=user, basket__trust_id__in=buyer_trust_ids)
            .order_by()
            .values_list("basket__trust_id")
            .annotate(n=Count("id"))
        )
    if approver_trust_ids:
        approvals = dict(
            PurchaseOrder.objects.filter(trust_id__in=approver_trust_ids, state=OrderState.AWAITING_APPROVAL)
            .exclude(buyer=user)
            .exclude(approvals__approver=user)
            .order_by()
            .values_list("trust_id")
            .annotate(n=Count("id"))
        )
    if supplier_ids:
        rows = (
            PurchaseOrder.objects.filter(
                supplier_id__in=supplier_ids, state__in=list(SUPPLIER_VISIBLE_STATES)
            )
            .order_by()
            .values_list("supplier_id", "state")
            .annotate(n=Count("id"))
        )
        for supplier_id, state, n in rows:
            by_supplier[supplier_id][state] = n
    return {
        "by_trust": by_trust,
        "by_supplier": by_supplier,
        "approvals": approvals,
        "basket_lines": basket_lines_by_trust,
    }
