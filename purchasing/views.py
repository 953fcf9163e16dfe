"""Purchasing's pages: buyers (basket, checkout, orders), approvers (queue, decision) and suppliers
(inbox, order, invoice). Each view parses with a form, calls a service or selector with the
organisation the request acts for (`organisations.acting.acting_for`) and renders; a domain error
goes back onto the form, naming its field. An order the acting organisation may not see is a 404.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import DomainError, NotFound, PermissionDenied
from organisations.acting import Acting, acting_for
from organisations.models import OrganisationKind, Role
from purchasing import selectors, services
from purchasing.forms import (
    AcknowledgeForm,
    AddToBasketForm,
    BasketLineForm,
    CheckoutForm,
    CostCentreChangeForm,
    CostCentreForm,
    DeliverySiteChangeForm,
    DeliverySiteForm,
    DispatchForm,
    InvoiceForm,
    NoteForm,
    OrderDetailsForm,
    OrderFilterForm,
    ReasonForm,
    ReceiveForm,
    SettingsForm,
    add_domain_error,
)
from purchasing.models import PurchaseOrder
from purchasing.returns import selectors as return_selectors
from purchasing.states import SIDE_ROLES, TRANSITIONS, OrderState, Side
from purchasing.types import ChangesToConfirm, OrderInput

PAGE_SIZE = 25


def page_view(view):
    """Signed in; a NotFound from a selector or service is a 404 and a refusal a 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except PermissionDenied as error:
            raise Forbidden(error.message) from None

    return wrapped


def _trust_acting(request: HttpRequest, *roles: str) -> Acting:
    """The trust the request acts for, the person holding one of `roles` there (any role if none
    given); 404 otherwise, so nobody learns what another organisation's pages hold."""
    acting = acting_for(request, kind=OrganisationKind.TRUST)
    if acting.trust is None or (roles and not acting.has_role(*roles)):
        raise Http404("No such page for the organisation you act for.")
    return acting


def _supplier_acting(request: HttpRequest) -> Acting:
    acting = acting_for(request, kind=OrganisationKind.SUPPLIER)
    if acting.supplier is None or not acting.has_role(*SIDE_ROLES[Side.SUPPLIER]):
        raise Http404("No such page for the organisation you act for.")
    return acting


def _actions(order: PurchaseOrder, acting: Acting) -> set[str]:
    """The transitions the table allows from the order's state that this viewer's side makes (the
    service checks again when they act)."""
    supplier_side = acting.supplier is not None
    names = set()
    for name, transition in TRANSITIONS.items():
        if order.state not in transition.sources or transition.side == Side.SYSTEM:
            continue
        if (transition.side == Side.SUPPLIER) != supplier_side:
            continue
        if acting.has_role(*SIDE_ROLES[transition.side]):
            names.add(name)
    return names


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _paged(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Buyers: basket --------------------------------------------------------------------------


def product_panel_context(request: HttpRequest, product) -> dict | None:
    """The product page's "Add to basket" panel, for a buyer acting for a trust (catalogue.panels)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    acting = acting_for(request, kind=OrganisationKind.TRUST)
    if acting.trust is None or not acting.has_role(Role.BUYER):
        return None
    offers = selectors.buyable_offers_of(product=product)
    if not offers:
        return None
    return {
        "product": product,
        "buyable_offers": offers,
        "trust": acting.trust,
        "next": request.get_full_path(),
    }


def card_action_context(request: HttpRequest, product_ids) -> dict[int, dict] | None:
    """The search results' "Add to basket" on each card, for a buyer acting for a trust
    (catalogue.panels): the offer that costs the trust least per unit, at its minimum order."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    acting = acting_for(request, kind=OrganisationKind.TRUST)
    if acting.trust is None or not acting.has_role(Role.BUYER):
        return None
    cheapest = selectors.cheapest_offers_for(product_ids=product_ids, trust=acting.trust)
    following = request.get_full_path()
    action = reverse("purchasing:basket-add")
    return {
        product_id: {"offer": offer, "price": price, "next": following, "action": action}
        for product_id, (offer, price) in cheapest.items()
    }


@require_POST
@page_view
def basket_add(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request, Role.BUYER)
    form = AddToBasketForm(request.POST)
    offer = selectors.offer_to_add(offer_id=_int(request.POST.get("offer")))
    if offer is None:
        raise Http404("No such offer.")
    if form.is_valid():
        try:
            basket = services.basket_get_or_create(actor=request.user, acting=acting)
            line = services.basket_line_add(
                basket=basket, actor=request.user, offer=offer, quantity=form.cleaned_data["quantity"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['quantity']} pack{'s' if form.cleaned_data['quantity'] != 1 else ''} of "
                f"{offer.product.name} from {offer.supplier.name} added: your basket holds "
                f"{line.quantity} of them.",
            )
            target = request.POST.get("next", "")
            if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                return redirect(target)
            return redirect("purchasing:basket")
    return render(request, "purchasing/add_to_basket.html", {"form": form, "offer": offer}, status=400)


def _line_form(line_id: int, quantity, data=None) -> BasketLineForm:
    prefix = f"line{line_id}"
    if data is None:
        return BasketLineForm(prefix=prefix, initial={"quantity": quantity})
    return BasketLineForm(data, prefix=prefix)


@require_http_methods(["GET", "POST"])
@page_view
def basket(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request, Role.BUYER)
    found = selectors.basket_of(buyer=request.user, trust=acting.trust)
    errored: BasketLineForm | None = None
    if request.method == "POST" and found is not None:
        line_id = _int(request.POST.get("line"))
        action = request.POST.get("action")
        if line_id is None or action not in ("change", "remove", "swap"):
            raise Http404("No such basket line.")
        form = _line_form(line_id, None, request.POST if action == "change" else None)
        try:
            if action == "change":
                if form.is_valid():
                    services.basket_line_change(
                        basket=found, actor=request.user, line=line_id, quantity=form.cleaned_data["quantity"]
                    )
                    messages.success(request, "The number of packs is changed.")
            elif action == "remove":
                services.basket_line_remove(basket=found, actor=request.user, line=line_id)
                messages.success(request, "The line is removed from your basket.")
            else:
                services.basket_line_swap(
                    basket=found, actor=request.user, line=line_id, offer=_int(request.POST.get("offer")) or 0
                )
                messages.success(request, "Swapped to the cheaper equivalent.")
        except DomainError as error:
            if not form.is_bound:
                form = BasketLineForm({f"line{line_id}-quantity": "1"}, prefix=f"line{line_id}")
                form.is_valid()
            add_domain_error(form, error, fields={"line": "quantity", "offer": "quantity"})
        if form.is_bound and form.errors:
            errored = form
        else:
            return redirect("purchasing:basket")
    view = selectors.basket_for(basket=found) if found is not None else None
    groups = []
    if view is not None:
        for group in view.groups:
            rows = []
            for line in group.lines:
                form = errored if errored and errored.prefix == f"line{line.line_id}" else None
                rows.append((line, form or _line_form(line.line_id, line.quantity)))
            groups.append((group, rows))
    return render(
        request,
        "purchasing/basket.html",
        {"basket": view, "groups": groups, "trust": acting.trust, "errored": errored},
        status=400 if errored else 200,
    )


# --- Buyers: checkout ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page_view
def checkout(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request, Role.BUYER)
    trust = acting.trust
    found = selectors.basket_of(buyer=request.user, trust=trust)
    view = selectors.basket_for(basket=found) if found is not None else None
    sites = list(selectors.delivery_sites(trust=trust))
    centres = list(selectors.cost_centres(trust=trust))
    data = request.POST if request.method == "POST" else None
    form = CheckoutForm(data)
    groups = [
        (group, OrderDetailsForm(data, prefix=f"supplier{group.supplier_id}", sites=sites, centres=centres))
        for group in (view.groups if view else ())
    ]
    changes = []
    if request.method == "POST" and found is not None:
        # Every form is validated (not stopping at the first) so every error is shown at once.
        checked = [form.is_valid(), *(details.is_valid() for _, details in groups)]
        if all(checked):
            orders = [
                OrderInput(
                    supplier_id=group.supplier_id,
                    delivery_site_id=details.cleaned_data["delivery_site"],
                    cost_centre_id=details.cleaned_data["cost_centre"],
                    required_by=details.cleaned_data["required_by"],
                    note=details.cleaned_data["note"],
                )
                for group, details in groups
            ]
            try:
                created = services.basket_checkout(
                    basket=found,
                    actor=request.user,
                    acting=acting,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    orders=orders,
                    confirmed_changes=request.POST.getlist("confirmed_changes"),
                )
            except ChangesToConfirm as error:
                changes = error.changes
                form.add_error(None, error.message)
            except DomainError as error:
                _checkout_error(form, groups, error)
            else:
                numbers = ", ".join(order.number for order in created)
                messages.success(
                    request, f"Ordered: {numbers}. Orders above your trust's limits wait for approval."
                )
                return redirect("purchasing:orders")
    return render(
        request,
        "purchasing/checkout.html",
        {
            "basket": view,
            "form": form,
            "groups": groups,
            "changes": changes,
            "has_errors": bool(form.errors) or any(details.errors for _, details in groups),
            "trust": trust,
            "sites": sites,
            "centres": centres,
        },
        status=400 if request.method == "POST" else 200,
    )


def _checkout_error(form: CheckoutForm, groups, error: DomainError) -> None:
    """A supplier's field (delivery site, cost centre, date, note) goes on every supplier's form
    that has it filled in; anything else at the top."""
    if error.field in OrderDetailsForm.base_fields:
        for _, details in groups:
            details.add_error(error.field, error.message)
    else:
        add_domain_error(form, error)


# --- Buyers and approvers: orders ------------------------------------------------------------


@require_http_methods(["GET"])
@page_view
def orders(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request)
    suppliers = selectors.order_suppliers(acting=acting)
    form = OrderFilterForm(request.GET or None, suppliers=suppliers)
    state, supplier = None, None
    if form.is_bound and form.is_valid():
        state, supplier = form.cleaned_data["state"] or None, form.cleaned_data["supplier"]
    page = _paged(request, selectors.orders_for(acting=acting, state=state, supplier_id=supplier))
    return render(
        request,
        "purchasing/orders.html",
        {"form": form, "page": page, "trust": acting.trust, "counts": _counts(acting)},
    )


def _counts(acting: Acting) -> list[tuple[str, str, int]]:
    found = selectors.order_counts_by_state(acting=acting)
    return [(state, label, found[state]) for state, label in OrderState.choices if found.get(state)]


def _order_page(request, template: str, *, acting: Acting, order: PurchaseOrder, forms: dict, **extra):
    invoiced = bool(order.invoice_number)
    context = {
        "order": order,
        "acting": acting,
        "actions": _actions(order, acting),
        "match": selectors.order_match(order=order) if invoiced else None,
        "has_errors": any(f.is_bound and f.errors for f in forms.values()),
        **forms,
        **extra,
    }
    return render(request, template, context, status=400 if context["has_errors"] else 200)


@require_http_methods(["GET", "POST"])
@page_view
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    acting = _trust_acting(request)
    order = selectors.order_for(acting=acting, order_id=order_id)
    room = {line.pk: line.packs_dispatched - line.packs_received for line in order.lines.all()}
    data = request.POST if request.method == "POST" else None
    action = request.POST.get("action") if data is not None else None
    forms = {
        "receive_form": ReceiveForm(
            data if action in ("receive", "receive_all") else None,
            prefix="receive",
            lines=order.lines.all(),
            room=room,
        ),
        "cancel_form": ReasonForm(data if action == "cancel" else None, prefix="cancel"),
        "close_form": NoteForm(data if action == "close" else None, prefix="close"),
    }
    if action is not None:
        done = _order_act(request, acting=acting, order=order, action=action, forms=forms)
        if done:
            messages.success(request, done)
            return redirect("purchasing:order", order_id=order.pk)
    return _order_page(request, "purchasing/order_detail.html", acting=acting, order=order, forms=forms)


def _order_act(request, *, acting: Acting, order: PurchaseOrder, action: str, forms: dict) -> str | None:
    """Make the buyer's transition the form asks for; the message to show, or None on errors."""
    user = request.user
    form = {
        "receive": forms["receive_form"],
        "receive_all": forms["receive_form"],
        "cancel": forms["cancel_form"],
        "close": forms["close_form"],
    }.get(action)
    if form is None:
        raise Http404("No such action.")
    if not form.is_valid():
        return None
    try:
        if action == "receive":
            services.order_receive(
                order=order.pk,
                actor=user,
                acting=acting,
                quantities=form.quantities(),
                note=form.cleaned_data["note"],
            )
            return f"Receipt recorded on {order.number}."
        if action == "receive_all":
            services.order_receive(order=order.pk, actor=user, acting=acting, note=form.cleaned_data["note"])
            return f"Everything dispatched on {order.number} is received."
        if action == "cancel":
            services.order_cancel(
                order=order.pk, actor=user, acting=acting, reason=form.cleaned_data["reason"]
            )
            return f"{order.number} is cancelled."
        services.order_close(order=order.pk, actor=user, acting=acting, note=form.cleaned_data["note"])
        return f"{order.number} is closed."
    except DomainError as error:
        add_domain_error(form, error, fields={"lines": _first_line_field(form), "state": None})
        return None


def _first_line_field(form) -> str | None:
    return next((name for name in form.fields if name.startswith("line_")), None)


# --- Approvers -------------------------------------------------------------------------------


@require_http_methods(["GET"])
@page_view
def approvals(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request, Role.APPROVER)
    queue = selectors.approval_queue(acting=acting, user=request.user)
    page = _paged(request, queue)
    return render(request, "purchasing/approvals.html", {"page": page, "trust": acting.trust})


@require_http_methods(["GET", "POST"])
@page_view
def approval_decision(request: HttpRequest, order_id: int) -> HttpResponse:
    acting = _trust_acting(request, Role.APPROVER)
    order = selectors.order_for(acting=acting, order_id=order_id)
    data = request.POST if request.method == "POST" else None
    action = request.POST.get("action") if data is not None else None
    forms = {
        "approve_form": NoteForm(data if action == "approve" else None, prefix="approve"),
        "reject_form": ReasonForm(data if action == "reject" else None, prefix="reject"),
    }
    if action is not None:
        form = forms.get(f"{action}_form")
        if form is None:
            raise Http404("No such action.")
        if form.is_valid():
            try:
                if action == "approve":
                    services.order_approve(
                        order=order.pk, actor=request.user, acting=acting, note=form.cleaned_data["note"]
                    )
                    done = f"You approved {order.number}."
                else:
                    services.order_reject(
                        order=order.pk, actor=request.user, acting=acting, reason=form.cleaned_data["reason"]
                    )
                    done = f"You rejected {order.number}; the buyer is told why."
            except DomainError as error:
                add_domain_error(form, error, fields={"order": None, "state": None})
            else:
                messages.success(request, done)
                return redirect("purchasing:approvals")
    return _order_page(request, "purchasing/approval_decision.html", acting=acting, order=order, forms=forms)


# --- Suppliers -------------------------------------------------------------------------------


@require_http_methods(["GET"])
@page_view
def supplier_orders(request: HttpRequest) -> HttpResponse:
    acting = _supplier_acting(request)
    form = OrderFilterForm(request.GET or None)
    del form.fields["supplier"]
    # New orders first; "any state" on asking.
    chosen = form.cleaned_data["state"] if form.is_bound and form.is_valid() else OrderState.SENT
    page = _paged(request, selectors.orders_for(acting=acting, **{"state": chosen or None}))
    return render(
        request,
        "purchasing/supplier_orders.html",
        {
            "form": form,
            "page": page,
            "supplier": acting.supplier,
            "counts": _counts(acting),
            "state_label": OrderState(chosen).label if chosen else "",
            "waiting_returns": list(return_selectors.supplier_returns(acting=acting)[:50]),
        },
    )


@require_http_methods(["GET", "POST"])
@page_view
def supplier_order(request: HttpRequest, order_id: int) -> HttpResponse:
    acting = _supplier_acting(request)
    order = selectors.order_for(acting=acting, order_id=order_id)
    room = {line.pk: line.packs - line.packs_dispatched for line in order.lines.all()}
    data = request.POST if request.method == "POST" else None
    action = request.POST.get("action") if data is not None else None
    forms = {
        "acknowledge_form": AcknowledgeForm(data if action == "acknowledge" else None, prefix="acknowledge"),
        "reject_form": ReasonForm(data if action == "reject" else None, prefix="reject"),
        "dispatch_form": DispatchForm(
            data if action in ("dispatch", "dispatch_all") else None,
            prefix="dispatch",
            lines=order.lines.all(),
            room=room,
        ),
    }
    if action is not None:
        form = forms.get(f"{action.removesuffix('_all')}_form")
        if form is None:
            raise Http404("No such action.")
        if form.is_valid():
            user, cleaned = request.user, form.cleaned_data
            try:
                if action == "acknowledge":
                    services.order_acknowledge(
                        order=order.pk,
                        actor=user,
                        acting=acting,
                        expected_delivery=cleaned["expected_delivery"],
                        note=cleaned["note"],
                    )
                    done = f"{order.number} is acknowledged; the buyer is told."
                elif action == "reject":
                    services.order_supplier_reject(
                        order=order.pk, actor=user, acting=acting, reason=cleaned["reason"]
                    )
                    done = f"You declined {order.number}; the buyer is told why."
                else:
                    services.order_dispatch(
                        order=order.pk,
                        actor=user,
                        acting=acting,
                        tracking_reference=cleaned["tracking_reference"],
                        quantities=form.quantities() if action == "dispatch" else None,
                    )
                    done = f"Dispatch of {order.number} recorded."
            except DomainError as error:
                add_domain_error(form, error, fields={"lines": _first_line_field(form), "state": None})
            else:
                messages.success(request, done)
                return redirect("purchasing:supplier-order", order_id=order.pk)
    return _order_page(
        request,
        "purchasing/supplier_order.html",
        acting=acting,
        order=order,
        forms=forms,
        returns=list(return_selectors.returns_of(order=order)),
    )


@require_http_methods(["GET", "POST"])
@page_view
def supplier_invoice(request: HttpRequest, order_id: int) -> HttpResponse:
    acting = _supplier_acting(request)
    order = selectors.order_for(acting=acting, order_id=order_id)
    form = InvoiceForm(request.POST if request.method == "POST" else None, lines=order.lines.all())
    if form.is_bound and form.is_valid():
        try:
            services.order_invoice(
                order=order.pk,
                actor=request.user,
                acting=acting,
                invoice_number=form.cleaned_data["invoice_number"],
                lines=form.lines(),
            )
        except DomainError as error:
            first_packs = next((name for name in form.fields if name.startswith("packs_")), None)
            add_domain_error(form, error, fields={"lines": first_packs, "state": None})
        else:
            messages.success(
                request, f"Invoice {form.cleaned_data['invoice_number']} sent on {order.number}."
            )
            return redirect("purchasing:supplier-order", order_id=order.pk)
    return _order_page(
        request,
        "purchasing/supplier_invoice.html",
        acting=acting,
        order=order,
        forms={"form": form},
    )


# --- Trust admins: purchasing settings -------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page_view
def settings(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request, Role.TRUST_ADMIN)
    trust, user = acting.trust, request.user
    current = selectors.purchasing_settings(trust=trust)
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {
        "settings_form": SettingsForm(
            request.POST if action == "settings" else None,
            prefix="settings",
            initial={name: getattr(current, name) for name in SettingsForm.base_fields},
        ),
        "site_form": DeliverySiteForm(request.POST if action == "site" else None, prefix="site"),
        "centre_form": CostCentreForm(request.POST if action == "centre" else None, prefix="centre"),
    }
    if action is not None:
        form = forms.get(f"{action}_form")
        if form is None:
            raise Http404("No such action.")
        if form.is_valid():
            try:
                if action == "settings":
                    services.purchasing_settings_update(
                        trust=trust, actor=user, acting=acting, **form.cleaned_data
                    )
                    done = "Approval bands and invoice tolerance saved."
                elif action == "site":
                    site = services.delivery_site_create(
                        trust=trust, actor=user, acting=acting, **form.cleaned_data
                    )
                    done = f"Delivery site {site.name} added."
                else:
                    centre = services.cost_centre_create(
                        trust=trust, actor=user, acting=acting, **form.cleaned_data
                    )
                    done = f"Cost centre {centre.code} added."
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, done)
                return redirect("purchasing:settings")
    has_errors = any(f.is_bound and f.errors for f in forms.values())
    return render(
        request,
        "purchasing/settings.html",
        {
            "trust": trust,
            "sites": selectors.delivery_sites(trust=trust, include_inactive=True).order_by("name"),
            "centres": selectors.cost_centres(trust=trust, include_inactive=True).order_by("code"),
            "has_errors": has_errors,
            **forms,
        },
        status=400 if has_errors else 200,
    )


@require_http_methods(["GET", "POST"])
@page_view
def settings_site(request: HttpRequest, site_id: int) -> HttpResponse:
    acting = _trust_acting(request, Role.TRUST_ADMIN)
    site = selectors.delivery_sites(trust=acting.trust, include_inactive=True).filter(pk=site_id).first()
    if site is None:
        raise Http404("No such delivery site.")
    initial = {"name": site.name, "address": site.address, "postcode": site.postcode, "gln": site.gln}
    form = DeliverySiteChangeForm(
        request.POST if request.method == "POST" else None, initial={**initial, "is_active": site.is_active}
    )
    if form.is_bound and form.is_valid():
        try:
            services.delivery_site_change(site=site, actor=request.user, acting=acting, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Delivery site {form.cleaned_data['name']} saved.")
            return redirect("purchasing:settings")
    return render(
        request,
        "purchasing/settings_change.html",
        {"form": form, "trust": acting.trust, "title": f"Delivery site {site.name}"},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@page_view
def settings_centre(request: HttpRequest, centre_id: int) -> HttpResponse:
    acting = _trust_acting(request, Role.TRUST_ADMIN)
    centre = selectors.cost_centres(trust=acting.trust, include_inactive=True).filter(pk=centre_id).first()
    if centre is None:
        raise Http404("No such cost centre.")
    form = CostCentreChangeForm(
        request.POST if request.method == "POST" else None,
        initial={"name": centre.name, "is_active": centre.is_active},
    )
    if form.is_bound and form.is_valid():
        try:
            services.cost_centre_change(centre=centre, actor=request.user, acting=acting, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Cost centre {centre.code} saved.")
            return redirect("purchasing:settings")
    return render(
        request,
        "purchasing/settings_change.html",
        {"form": form, "trust": acting.trust, "title": f"Cost centre {centre.code}"},
        status=400 if form.is_bound else 200,
    )
