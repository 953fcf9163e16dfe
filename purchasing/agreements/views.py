"""Negotiated prices on pages: a supplier's list, form and withdrawal; a trust's contract prices.

Thin: the form parses, a selector or service decides. Another organisation's price is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.errors import DomainError
from organisations.acting import Acting, acting_for
from organisations.models import OrganisationKind
from purchasing.agreements import selectors, services
from purchasing.agreements.forms import NegotiatedPriceForm
from purchasing.forms import add_domain_error
from purchasing.views import _paged, _supplier_acting, page_view


def _rows(page, acting: Acting) -> list:
    named = selectors.trusts_named(page.object_list, acting=acting)
    return [(price, named[price.pk]) for price in page.object_list]


@require_http_methods(["GET"])
@page_view
def supplier_prices(request: HttpRequest) -> HttpResponse:
    acting = _supplier_acting(request)
    page = _paged(request, selectors.negotiated_prices_for(acting=acting))
    return render(
        request,
        "purchasing/agreements/supplier_prices.html",
        {"supplier": acting.supplier, "page": page, "rows": _rows(page, acting)},
    )


@require_http_methods(["GET", "POST"])
@page_view
def price_new(request: HttpRequest) -> HttpResponse:
    acting = _supplier_acting(request)
    form = NegotiatedPriceForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        cleaned = form.cleaned_data
        codes = form.ods_codes()
        found = selectors.trusts_by_ods_code(codes=codes)
        unknown = [code for code in codes if code not in found]
        offer = selectors.offer_of_supplier(supplier=acting.supplier, sku=cleaned["offer"])
        if unknown:
            form.add_error("trusts", f"No NHS trust has the ODS code {', '.join(unknown)}.")
        if offer is None:
            form.add_error("offer", "You have no offer with that SKU.")
        if not form.errors:
            try:
                price = services.negotiated_price_set(
                    actor=request.user,
                    acting=acting,
                    offer=offer,
                    trusts=list(found.values()),
                    pack_price=cleaned["pack_price"],
                    valid_from=cleaned["valid_from"],
                    valid_to=cleaned["valid_to"],
                    reference=cleaned["reference"],
                    note=cleaned["note"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Your negotiated price {price.reference} is set.")
                return redirect("purchasing:negotiated-price", price_id=price.pk)
    return render(
        request,
        "purchasing/agreements/price_form.html",
        {"supplier": acting.supplier, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@page_view
def price_detail(request: HttpRequest, price_id: int) -> HttpResponse:
    acting = _supplier_acting(request)
    price = selectors.negotiated_price_for(acting=acting, negotiated_price_id=price_id)
    error = None
    if request.method == "POST":
        if request.POST.get("action") != "withdraw":
            raise Http404("No such action.")
        try:
            services.negotiated_price_withdraw(actor=request.user, acting=acting, negotiated_price=price.pk)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, f"You withdrew {price.reference}: its trusts pay your other prices.")
            return redirect("purchasing:negotiated-price", price_id=price.pk)
    return render(
        request,
        "purchasing/agreements/price_detail.html",
        {
            "supplier": acting.supplier,
            "price": price,
            "trusts": selectors.trusts_named([price], acting=acting)[price.pk],
            "error": error,
        },
        status=409 if error else 200,
    )


@require_http_methods(["GET"])
@page_view
def trust_prices(request: HttpRequest) -> HttpResponse:
    acting = acting_for(request, kind=OrganisationKind.TRUST)
    if acting.trust is None:
        raise Http404("No such page for the organisation you act for.")
    page = _paged(request, selectors.negotiated_prices_for(acting=acting))
    return render(
        request,
        "purchasing/agreements/trust_prices.html",
        {"trust": acting.trust, "page": page, "rows": _rows(page, acting)},
    )
