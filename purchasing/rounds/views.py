"""Purchasing rounds' pages. Trusts: the open rounds, a round's live view (join, change, withdraw;
the figures and chart refresh from a fragment every few seconds, `round-live.js`), their
commitments. Suppliers: propose a round, their rounds with the commitments, the outcome and the
orders. Thin, like `purchasing.views`: a form parses, a service or selector decides with the
organisation the request acts for, and a round outside the acting organisation's reach is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common.errors import DomainError
from organisations.acting import Acting, acting_for
from organisations.models import OrganisationKind, Role
from purchasing import selectors as purchasing_selectors
from purchasing.forms import add_domain_error
from purchasing.rounds import charts, selectors, services
from purchasing.rounds.forms import TIER_ROWS, CancelRoundForm, CommitmentForm, ProposeForm
from purchasing.rounds.models import FINAL_STATUSES, Round, RoundStatus
from purchasing.views import _paged, _supplier_acting, _trust_acting, page_view

# Who may commit their trust to a round (the service checks each one's approval limit).
COMMITTING_ROLES = (Role.BUYER, Role.APPROVER, Role.TRUST_ADMIN)
POLL_SECONDS = 5
CANCELLABLE = (RoundStatus.PROPOSED, RoundStatus.OPEN)


def _chart(round_, live):
    return charts.committed_volume(
        points=live.points,
        tiers=[(tier.min_packs, tier.pack_price) for tier in live.tiers],
        minimum=round_.minimum_packs,
        opens_at=round_.opens_at,
        closes_at=round_.closes_at,
    )


def time_left(seconds: int | None) -> str:
    """The time left in words: 2 days 3 hours, 3 hours 5 minutes, 4 minutes, or Closed."""
    if not seconds or seconds <= 0:
        return "Closed"
    minutes = seconds // 60
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"

    if days:
        return " ".join([unit(days, "day")] + ([unit(hours, "hour")] if hours else []))
    if hours:
        return " ".join([unit(hours, "hour")] + ([unit(mins, "minute")] if mins else []))
    return unit(max(mins, 1), "minute") if seconds >= 60 else "Less than a minute"


def _live_context(round_, acting: Acting) -> dict:
    live = selectors.round_live(round=round_, acting=acting)
    return {
        "round": round_,
        "live": live,
        "chart": _chart(round_, live),
        "time_left": time_left(live.seconds_left),
        "closed": round_.status in FINAL_STATUSES,
        "viewer_is_trust": acting.trust is not None,
    }


# --- Trusts ----------------------------------------------------------------------------------


@require_http_methods(["GET"])
@page_view
def rounds(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request)
    page = _paged(request, selectors.rounds_open_for(acting=acting))
    return render(
        request, "purchasing/rounds/list.html", {"page": page, "trust": acting.trust, "now": timezone.now()}
    )


@require_http_methods(["GET", "POST"])
@page_view
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    acting = _trust_acting(request)
    round_ = selectors.round_for(acting=acting, round_id=round_id)
    offers = [round_offer.offer for round_offer in round_.round_offers.all()]
    action = request.POST.get("action") if request.method == "POST" else None
    may_commit = acting.has_role(*COMMITTING_ROLES)
    context = _live_context(round_, acting)
    commitment = context["live"].trust_commitment
    current = commitment if commitment is not None and commitment.withdrawn_at is None else None
    initial = {}
    if commitment is not None:  # a change, or joining again after a withdrawal, starts from the last
        initial = {
            "packs": commitment.packs,
            "offer": commitment.offer_id,
            "delivery_site": commitment.delivery_site_id,
            "cost_centre": commitment.cost_centre_id,
        }
    form = CommitmentForm(
        request.POST if action == "commit" else None,
        offers=offers,
        sites=purchasing_selectors.delivery_sites(trust=acting.trust),
        centres=purchasing_selectors.cost_centres(trust=acting.trust),
        initial=initial,
    )
    if action is not None:
        if not may_commit or action not in ("commit", "withdraw"):
            raise Http404("No such action.")
        done = None
        if action == "withdraw":
            try:
                services.commitment_withdraw(round=round_, actor=request.user, acting=acting)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                done = f"Your trust's commitment to {round_.reference} is withdrawn."
        elif form.is_valid():
            cleaned = form.cleaned_data
            offer = next((o for o in offers if o.pk == cleaned.get("offer")), None)
            try:
                services.commitment_set(
                    round=round_,
                    actor=request.user,
                    acting=acting,
                    packs=cleaned["packs"],
                    offer=offer,
                    delivery_site=cleaned.get("delivery_site"),
                    cost_centre=cleaned.get("cost_centre"),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                packs = form.cleaned_data["packs"]
                done = (
                    f"Your trust {'now commits' if current else 'joined with'} {packs} "
                    f"pack{'s' if packs != 1 else ''} in {round_.reference}."
                )
        if done:
            messages.success(request, done)
            return redirect("purchasing:round", round_id=round_.pk)
    return render(
        request,
        "purchasing/rounds/detail.html",
        {
            **context,
            "trust": acting.trust,
            "form": form,
            "commitment": current,
            "may_commit": may_commit,
            "may_cancel": round_.status in CANCELLABLE
            and round_.proposed_by_organisation_id == acting.trust.pk
            and acting.has_role(Role.TRUST_ADMIN),
            "not_yet_open": round_.opens_at > timezone.now(),
            "offers": offers,
            "live_url": reverse("purchasing:round-live", kwargs={"round_id": round_.pk}),
            "poll_seconds": POLL_SECONDS,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET"])
@page_view
def round_live(request: HttpRequest, round_id: int) -> HttpResponse:
    """The live figures and chart alone, which `round-live.js` swaps into the page."""
    acting = _trust_acting(request)
    round_ = selectors.round_for(acting=acting, round_id=round_id)
    return render(request, "purchasing/rounds/includes/live.html", _live_context(round_, acting))


@require_http_methods(["GET"])
@page_view
def commitments(request: HttpRequest) -> HttpResponse:
    acting = _trust_acting(request)
    page = _paged(request, selectors.commitments_of_trust(acting=acting))
    return render(request, "purchasing/rounds/commitments.html", {"page": page, "trust": acting.trust})


# --- Suppliers -------------------------------------------------------------------------------


@require_http_methods(["GET"])
@page_view
def supplier_rounds(request: HttpRequest) -> HttpResponse:
    acting = _supplier_acting(request)
    page = _paged(request, selectors.rounds_of_supplier(acting=acting))
    return render(
        request, "purchasing/rounds/supplier_list.html", {"page": page, "supplier": acting.supplier}
    )


@require_http_methods(["GET"])
@page_view
def supplier_round(request: HttpRequest, round_id: int) -> HttpResponse:
    acting = _supplier_acting(request)
    round_ = selectors.round_for(acting=acting, round_id=round_id)
    return render(
        request,
        "purchasing/rounds/supplier_detail.html",
        {
            **_live_context(round_, acting),
            "supplier": acting.supplier,
            "commitments": selectors.round_commitments(round=round_, acting=acting),
            "may_cancel": round_.status in CANCELLABLE
            and round_.proposed_by_organisation_id == acting.supplier.pk,
        },
    )


def _proposing(request: HttpRequest, acting: Acting, form: ProposeForm) -> Round | None:
    """The proposal of a valid form through `round_propose` (a supplier's or a trust admin's alike);
    the round, or None with the service's error on the form."""
    if not (form.is_bound and form.is_valid()):
        return None
    offers = form.chosen_offers()
    data = form.cleaned_data
    try:
        made = services.round_propose(
            actor=request.user,
            acting=acting,
            product=offers[0].product,
            offers=offers,
            title=data["title"],
            description=data["description"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            delivery_from=data["delivery_from"],
            delivery_to=data["delivery_to"],
            minimum_packs=data["minimum_packs"],
            tiers=form.tiers(),
            audience=data["audience"],
            region=data["region"],
            invited=list(data["invited"]),
        )
    except DomainError as error:
        offer_field = "offers" if "offers" in form.fields else "offer"
        add_domain_error(
            form, error, fields={"tiers": "tier_1_packs", "offers": offer_field, "product": offer_field}
        )
        return None
    messages.success(
        request, f"Round {made.reference} is proposed. The marketplace team approves it before it opens."
    )
    return made


@require_http_methods(["GET", "POST"])
@page_view
def propose(request: HttpRequest) -> HttpResponse:
    acting = _supplier_acting(request)
    form = ProposeForm(
        request.POST if request.method == "POST" else None,
        # The supplier's own offers on sale, to choose one (the service checks it again).
        offers=selectors.offers_to_propose(acting=acting),
    )
    if made := _proposing(request, acting, form):
        return redirect("purchasing:round-supplier", round_id=made.pk)
    return render(
        request,
        "purchasing/rounds/propose.html",
        {
            "form": form,
            "organisation": acting.supplier,
            "tier_rows": TIER_ROWS,
            "back_url": reverse("purchasing:rounds-supplier"),
            "back_text": "Back to your rounds",
        },
        status=400 if form.errors else 200,
    )


# --- Trust admins propose too ------------------------------------------------------------------


def propose_panel_context(request: HttpRequest, product) -> dict | None:
    """The product page's "Propose a purchasing round" panel, for a trust admin acting for a trust
    when the product has an offer on sale (purchasing.panels)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    acting = acting_for(request, kind=OrganisationKind.TRUST)
    if acting.trust is None or not acting.has_role(Role.TRUST_ADMIN):
        return None
    if not selectors.offers_to_propose(acting=acting, product_id=product.pk).exists():
        return None
    return {"trust": acting.trust, "product": product}


@require_http_methods(["GET", "POST"])
@page_view
def propose_for_trust(request: HttpRequest) -> HttpResponse:
    """A trust admin's proposal, on one or more suppliers' offers of a product (`?product=`, from
    the product page's panel). Without a product: the rounds the trust proposed, and where to start."""
    acting = _trust_acting(request, Role.TRUST_ADMIN)
    product_id = request.GET.get("product", "")
    if not product_id:
        return render(
            request,
            "purchasing/rounds/trust_proposals.html",
            {"trust": acting.trust, "page": _paged(request, selectors.rounds_proposed_by(acting=acting))},
        )
    if not product_id.isdigit():
        raise Http404("No such product.")
    offers = list(selectors.offers_to_propose(acting=acting, product_id=int(product_id)))
    if not offers:
        raise Http404("No offer of this product is on sale.")
    form = ProposeForm(request.POST if request.method == "POST" else None, offers=offers, multiple=True)
    if made := _proposing(request, acting, form):
        return redirect("purchasing:round", round_id=made.pk)
    return render(
        request,
        "purchasing/rounds/propose.html",
        {
            "form": form,
            "organisation": acting.trust,
            "product": offers[0].product,
            "tier_rows": TIER_ROWS,
            "back_url": reverse("purchasing:round-propose-trust"),
            "back_text": "Your trust's proposed rounds",
        },
        status=400 if form.errors else 200,
    )


# --- Calling a round off -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@page_view
def round_cancel(request: HttpRequest, round_id: int) -> HttpResponse:
    """The proposer (its supplier's staff, or its trust's admin) cancels a proposed or open round,
    with the reason the participants are told."""
    acting = acting_for(request)
    organisation = acting.organisation
    if organisation is None:
        raise Http404("No such page for the organisation you act for.")
    round_ = selectors.round_for(acting=acting, round_id=round_id)
    if round_.proposed_by_organisation_id != organisation.pk:
        raise Http404("Only the organisation that proposed a round cancels it.")
    back = reverse(
        "purchasing:round-supplier" if organisation.is_supplier else "purchasing:round",
        kwargs={"round_id": round_.pk},
    )
    form = CancelRoundForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.round_cancel(
                round=round_, actor=request.user, acting=acting, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"{round_.reference} is cancelled. The trusts that joined and the suppliers are told.",
            )
            return redirect(back)
    return render(
        request,
        "purchasing/rounds/cancel.html",
        {
            "round": round_,
            "organisation": organisation,
            "form": form,
            "back_url": back,
            "cancellable": round_.status in CANCELLABLE,
        },
        status=400 if form.errors else 200,
    )
