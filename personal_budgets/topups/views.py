"""Card top-up pages (thin): the split and where it goes (start), the card (pay, Stripe Elements:
Stripe's own script and publishable key; card details go from the browser to Stripe, never here),
and the order's payment status (a page and a JSON answer the page polls).

Only the pay page lets the browser load Stripe: its Content-Security-Policy adds js.stripe.com to
script-src and frame-src and api.stripe.com to connect-src (django-csp's `csp_update`); every other
page keeps the site's policy."""

from __future__ import annotations

from contextlib import suppress

from csp.decorators import csp_update
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.errors import Conflict, DomainError
from common.money import to_pence
from personal_budgets import selectors as budget_selectors
from personal_budgets.forms import add_domain_error
from personal_budgets.topups import selectors, services
from personal_budgets.topups.forms import TopUpForm
from personal_budgets.topups.models import TopUpState
from personal_budgets.views import _patient, _patient_summary, page_view
from purchasing.types import PatientDelivery, PatientLine

STRIPE_CSP = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


@page_view
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, offer_id: int) -> HttpResponse:
    patient, summary = _patient_summary(request)
    if patient is None or summary is None:
        raise Http404("No budget.")
    item = budget_selectors.shop_offer(patient=patient, summary=summary, offer_id=offer_id)
    split = services.split_for(budget=summary.budget, total_pence=to_pence(item.price.amount))
    enabled = selectors.top_ups_enabled()
    form = TopUpForm(
        request.POST or None, initial={"name": patient.user.full_name, "card_pence": split.card_pence}
    )
    if request.method == "POST" and enabled and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.topup_checkout(
                patient=patient,
                actor=request.user,
                lines=[PatientLine(offer_id=item.offer.pk, packs=1)],
                delivery=PatientDelivery(
                    name=data["name"], address=data["address"], postcode=data["postcode"]
                ),
                idempotency_key=data["request_key"],
                card_pence=data["card_pence"],
            )
        except DomainError as error:
            add_domain_error(
                form,
                error,
                fields={
                    "delivery_name": "name",
                    "delivery_address": "address",
                    "delivery_postcode": "postcode",
                },
            )
        else:
            if result.top_up.state == TopUpState.AWAITING_APPROVAL:
                # The card is asked for after the coordinator's yes (an email and the status page).
                return redirect("topups:status", order_id=result.order.pk)
            # Start the card payment now, so that it (and its expiry, which gives the held money
            # back) exists even if the card page is never opened; the card page gets the same one.
            # Stripe unreachable or refusing: the card page asks again and says why.
            with suppress(DomainError):
                services.topup_payment_start(top_up=result.top_up)
            return redirect("topups:pay", order_id=result.order.pk)
    return render(
        request,
        "personal_budgets/topups/start.html",
        {
            "patient": patient,
            "summary": summary,
            "item": item,
            "split": split,
            "form": form,
            "enabled": enabled,
            "allowed": bool(summary.plan and summary.plan.top_ups_allowed),
            "switched_off": services.SWITCHED_OFF,
        },
    )


@page_view
@csp_update(STRIPE_CSP)
def pay(request: HttpRequest, order_id: int) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        raise Http404("No such order.")
    top_up = selectors.top_up_for_order(patient=patient, order_id=order_id)
    context = {
        "patient": patient,
        "top_up": top_up,
        "order": top_up.spend.order,
        "started": None,
        "problem": "",
    }
    if not selectors.top_ups_enabled():
        context["problem"] = services.SWITCHED_OFF
    else:
        try:
            context["started"] = services.topup_payment_start(top_up=top_up)
        except Conflict:
            return redirect("topups:status", order_id=order_id)
        except DomainError as error:
            context["problem"] = error.message
    return render(request, "personal_budgets/topups/pay.html", context)


def _status(request: HttpRequest, order_id: int):
    patient = _patient(request)
    if patient is None:
        raise Http404("No such order.")
    top_up = selectors.top_up_for_order(patient=patient, order_id=order_id)
    return patient, top_up, selectors.top_up_status(top_up=top_up)


@page_view
def status_page(request: HttpRequest, order_id: int) -> HttpResponse:
    patient, top_up, status = _status(request, order_id)
    return render(
        request,
        "personal_budgets/topups/status.html",
        {"patient": patient, "top_up": top_up, "order": top_up.spend.order, "status": status},
    )


@page_view
def status_json(request: HttpRequest, order_id: int) -> JsonResponse:
    _, _, status = _status(request, order_id)
    return JsonResponse({"state": status.state, "message": status.message, "final": status.final})
