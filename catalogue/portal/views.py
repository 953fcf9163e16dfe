"""The supplier portal: a supplier's people list, add, change and withdraw their own offers.

The supplier is the one the request acts for (`organisations.acting`: the header's switcher for
people who act for several). Every offer is looked up through `selectors.supplier_offer`, scoped
to the suppliers the user acts for, so someone else's offer is "not found" (404) rather than
forbidden. Changes go through
`catalogue.services`, which apply the moderation rules.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalogue import selectors, services
from catalogue.models import Offer, OfferStatus
from catalogue.portal.forms import OfferForm
from common.errors import DomainError, NotFound
from organisations.acting import Acting, acting_for
from organisations.models import Organisation, OrganisationKind
from organisations.scoping import scoped

OFFERS_PER_PAGE = 50


def _acting_supplier_or_404(request: HttpRequest) -> tuple[Acting, Organisation]:
    acting = acting_for(request, kind=OrganisationKind.SUPPLIER)
    if acting.supplier is None:
        raise Http404("You do not act for a supplier.")
    return acting, acting.supplier


def _offer_or_404(request: HttpRequest, pk: int) -> Offer:
    try:
        return selectors.supplier_offer(user=request.user, offer_id=pk)
    except NotFound:
        raise Http404("No such offer.") from None


def _saved_message(offer: Offer, *, created: bool) -> str:
    verb = "added" if created else "saved"
    if offer.pending_changes:
        return (
            f"Your changes to {offer.supplier_sku} are waiting for approval; "
            "the current terms stay on sale until then."
        )
    if offer.status == OfferStatus.PENDING:
        return f"Offer {offer.supplier_sku} {verb}. It will go on sale once the marketplace team approves it."
    if offer.status == OfferStatus.LIVE:
        return f"Offer {offer.supplier_sku} {verb}. It is on sale now."
    return f"Offer {offer.supplier_sku} {verb}."


@login_required
def offer_list(request: HttpRequest) -> HttpResponse:
    acting, supplier = _acting_supplier_or_404(request)
    status = request.GET.get("status") or None
    if status not in (None, *OfferStatus.values):
        status = None
    offers = scoped(selectors.supplier_offers(user=request.user, status=status), acting, field="supplier")
    page = Paginator(offers, OFFERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/supplier/offer_list.html",
        {
            "page": page,
            "supplier": supplier,
            "status": status,
            "statuses": OfferStatus.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def offer_create(request: HttpRequest) -> HttpResponse:
    _, supplier = _acting_supplier_or_404(request)
    form = OfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_create(supplier=supplier, actor=request.user, data=form.to_offer_input())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _saved_message(offer, created=True))
            return redirect("catalogue:supplier-offers")
    return render(
        request, "catalogue/supplier/offer_form.html", {"form": form, "offer": None, "supplier": supplier}
    )


@login_required
@require_http_methods(["GET", "POST"])
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    # An offer stays with its supplier, whoever the request acts for.
    form = OfferForm(request.POST or None, initial=OfferForm.initial_for(offer))
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_update(offer=offer, actor=request.user, data=form.to_offer_input())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _saved_message(offer, created=False))
            return redirect("catalogue:supplier-offers")
    return render(
        request,
        "catalogue/supplier/offer_form.html",
        {"form": form, "offer": offer, "supplier": offer.supplier},
    )


@login_required
@require_http_methods(["GET", "POST"])
def offer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST takes the offer off sale."""
    offer = _offer_or_404(request, pk)
    if request.method == "POST":
        services.offer_withdraw(offer=offer, actor=request.user)
        messages.success(request, f"Offer {offer.supplier_sku} is withdrawn: buyers no longer see it.")
        return redirect("catalogue:supplier-offers")
    return render(request, "catalogue/supplier/offer_withdraw.html", {"offer": offer})


@login_required
@require_POST
def offer_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a draft or withdrawn offer (back) on sale, through moderation where the rules say so."""
    offer = _offer_or_404(request, pk)
    try:
        offer = services.offer_submit(offer=offer, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _saved_message(offer, created=False))
    return redirect("catalogue:supplier-offers")
