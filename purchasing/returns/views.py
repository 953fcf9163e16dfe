"""The supplier's return pages: a return of one of its orders, with accept and refuse. Thin: the
rules are in `purchasing.returns.services`; another supplier's return is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.errors import DomainError
from purchasing.forms import add_domain_error
from purchasing.returns import selectors, services
from purchasing.returns.forms import ReturnDecisionForm
from purchasing.returns.models import ReturnState
from purchasing.views import _supplier_acting, page_view


@require_http_methods(["GET", "POST"])
@page_view
def supplier_return(request: HttpRequest, order_id: int, return_id: int) -> HttpResponse:
    acting = _supplier_acting(request)
    found = selectors.supplier_return(acting=acting, order_id=order_id, return_id=return_id)
    form = ReturnDecisionForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and found.state == ReturnState.REQUESTED:
        decision, note = form.cleaned_data["decision"], form.cleaned_data["note"]
        try:
            if decision == "accept":
                found, _ = services.return_accept(
                    order_return=found.pk, actor=request.user, acting=acting, note=note
                )
                done = f"Return accepted: £{found.refund_amount:,.2f} given back; the buyer is told."
            else:
                services.return_refuse(order_return=found.pk, actor=request.user, acting=acting, reason=note)
                done = "Return refused; the buyer is told why."
        except DomainError as error:
            add_domain_error(form, error, fields={"reason": "note", "state": None, "amount": None})
        else:
            messages.success(request, done)
            return redirect("purchasing:supplier-order", order_id=found.order_id)
    has_errors = form.is_bound and bool(form.errors)
    return render(
        request,
        "purchasing/returns/supplier_return.html",
        {"found": found, "order": found.order, "form": form, "has_errors": has_errors},
        status=400 if has_errors else 200,
    )
