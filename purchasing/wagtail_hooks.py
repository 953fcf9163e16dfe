"""Purchasing in the back office (Wagtail admin at /cms/), read-only but for one decision.

Orders, baskets' results and trusts' purchasing settings change only through `purchasing.services`
(transitions audited and emailed, settings by a trust's admin), so the back office lists and
inspects them and never adds, changes or deletes. Proposed purchasing rounds wait at
/cms/purchasing-rounds/ for the marketplace team to approve or reject them, through
`purchasing.rounds.services.round_approve` / `round_reject` (the views only show and route); the
same page lists the open rounds, and the team may cancel a proposed or open round with a reason
(`round_cancel`).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from common.back_office import ViewOnlyPermissionPolicy
from common.errors import DomainError
from organisations.acting import Acting
from purchasing.agreements.wagtail_hooks import NegotiatedPriceViewSet
from purchasing.models import CostCentre, DeliverySite, NegotiatedPrice, PurchaseOrder, PurchasingSettings
from purchasing.rounds import selectors as round_selectors
from purchasing.rounds import services as round_services
from purchasing.rounds.forms import CancelRoundForm, RejectRoundForm
from purchasing.rounds.models import Round

for _model in (PurchaseOrder, PurchasingSettings, DeliverySite, CostCentre, NegotiatedPrice):
    register_permission_policy(_model, ViewOnlyPermissionPolicy(_model))


class PurchaseOrderViewSet(ModelViewSet):
    model = PurchaseOrder
    icon = "list-ul"
    menu_label = "Purchase orders"
    form_fields = ["note"]  # never shown: nobody may change orders here
    list_display = ["number", "trust", "supplier", "state", "total_incl_vat", "created_at"]
    list_filter = ["state"]
    search_fields = ["number", "trust__name", "supplier__name", "invoice_number"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "number",
        "trust",
        "supplier",
        "buyer",
        "state",
        "approvals_required",
        "delivery_name",
        "delivery_address",
        "delivery_postcode",
        "delivery_gln",
        "cost_centre",
        "required_by",
        "expected_delivery",
        "note",
        "total_excl_vat",
        "total_vat",
        "total_incl_vat",
        "invoice_number",
        "created_at",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=PurchaseOrder.objects.select_related("trust", "supplier"), **kwargs
        )


class PurchasingSettingsViewSet(ModelViewSet):
    model = PurchasingSettings
    icon = "cogs"
    menu_label = "Approval bands"
    form_fields = ["one_approver_above"]
    list_display = [
        "trust",
        "one_approver_above",
        "two_approvers_above",
        "price_tolerance_percent",
        "price_tolerance_amount",
    ]
    search_fields = ["trust__name", "trust__ods_code"]
    search_backend_name = None
    copy_view_enabled = False


class DeliverySiteViewSet(ModelViewSet):
    model = DeliverySite
    icon = "site"
    menu_label = "Delivery sites"
    form_fields = ["name"]
    list_display = ["name", "trust", "postcode", "gln", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "trust__name", "postcode", "gln"]
    search_backend_name = None
    copy_view_enabled = False


class CostCentreViewSet(ModelViewSet):
    model = CostCentre
    icon = "tag"
    menu_label = "Cost centres"
    form_fields = ["name"]
    list_display = ["code", "name", "trust", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "trust__name"]
    search_backend_name = None
    copy_view_enabled = False


class PurchasingViewSetGroup(ModelViewSetGroup):
    menu_label = "Purchasing"
    menu_icon = "list-ul"
    menu_order = 220
    items = (
        PurchaseOrderViewSet("purchasing-orders", url_prefix="purchasing/orders"),
        PurchasingSettingsViewSet("purchasing-settings", url_prefix="purchasing/settings"),
        DeliverySiteViewSet("purchasing-sites", url_prefix="purchasing/delivery-sites"),
        CostCentreViewSet("purchasing-cost-centres", url_prefix="purchasing/cost-centres"),
        NegotiatedPriceViewSet("purchasing-negotiated-prices", url_prefix="purchasing/negotiated-prices"),
    )


# --- Purchasing rounds: the marketplace team approves or rejects proposed rounds ---------------

ROUNDS_PER_PAGE = 50


def _staff_or_403(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only the marketplace team approves purchasing rounds.")


def _proposed_or_404(pk: int) -> Round:
    found = round_selectors.rounds_proposed().filter(pk=pk).first()
    if found is None:
        raise Http404("No proposed round has this number.")
    return found


def _cancellable_or_404(pk: int) -> Round:
    found = round_selectors.rounds_proposed().filter(pk=pk).first()
    found = found or round_selectors.rounds_open().filter(pk=pk).first()
    if found is not None:
        return found
    raise Http404("No proposed or open round has this number.")


def rounds_queue(request: HttpRequest) -> HttpResponse:
    _staff_or_403(request)
    page = Paginator(round_selectors.rounds_proposed(), ROUNDS_PER_PAGE).get_page(request.GET.get("p"))
    open_page = Paginator(round_selectors.rounds_open(), ROUNDS_PER_PAGE).get_page(request.GET.get("open"))
    return TemplateResponse(
        request,
        "purchasing/admin/rounds_queue.html",
        {
            "page": page,
            "open_page": open_page,
            "page_title": "Proposed purchasing rounds",
            "header_title": "Proposed purchasing rounds",
        },
    )


@require_POST
def round_approve(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_or_403(request)
    found = _proposed_or_404(pk)
    try:
        round_services.round_approve(round=found, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{found.reference}: {error.message}")
    else:
        opens = timezone.localtime(found.opens_at)
        messages.success(request, f"{found.reference} is approved: trusts see it from {opens:%-d %b %H:%M}.")
    return redirect("purchasing-rounds:index")


@require_http_methods(["GET", "POST"])
def round_reject(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_or_403(request)
    found = _proposed_or_404(pk)
    form = RejectRoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            round_services.round_reject(round=found, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error("reason" if error.field == "reason" else None, error.message)
        else:
            messages.success(request, f"{found.reference} was turned down; the proposer sees why.")
            return redirect("purchasing-rounds:index")
    return TemplateResponse(
        request,
        "purchasing/admin/round_reject.html",
        {
            "round": found,
            "form": form,
            "page_title": f"Reject {found.reference}",
            "header_title": f"Reject {found.reference}",
        },
    )


@require_http_methods(["GET", "POST"])
def round_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The marketplace team calls off a proposed or open round; the trusts that joined and the
    suppliers are emailed the reason."""
    _staff_or_403(request)
    found = _cancellable_or_404(pk)
    form = CancelRoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            round_services.round_cancel(
                round=found,
                actor=request.user,
                acting=Acting(organisation=None),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error("reason" if error.field == "reason" else None, error.message)
        else:
            messages.success(
                request, f"{found.reference} is cancelled; its trusts and suppliers are told why."
            )
            return redirect("purchasing-rounds:index")
    return TemplateResponse(
        request,
        "purchasing/admin/round_cancel.html",
        {
            "round": found,
            "form": form,
            "page_title": f"Cancel {found.reference}",
            "header_title": f"Cancel {found.reference}",
        },
    )


class RoundsMenuItem(MenuItem):
    """'Purchasing rounds' with the number waiting, for the marketplace team."""

    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.is_staff

    def render_component(self, request: HttpRequest):
        count = round_selectors.rounds_proposed().count()
        label = f"{self.label} ({count})" if count else self.label
        return LinkMenuItem(self.name, label, self.url, icon_name=self.icon_name, attrs=self.attrs)


class RoundsViewSet(ViewSet):
    name = "purchasing-rounds"
    icon = "group"
    menu_icon = "group"
    menu_label = "Purchasing rounds"
    menu_name = "purchasing-rounds"
    menu_order = 225
    add_to_admin_menu = True
    menu_item_class = RoundsMenuItem

    @property
    def menu_url(self) -> str:
        return reverse(self.get_url_name("index"))

    def get_urlpatterns(self) -> list:
        return [
            path("", rounds_queue, name="index"),
            path("<int:pk>/approve/", round_approve, name="approve"),
            path("<int:pk>/reject/", round_reject, name="reject"),
            path("<int:pk>/cancel/", round_cancel, name="cancel"),
        ]


@hooks.register("register_admin_viewset")
def register_purchasing_viewsets():
    return [PurchasingViewSetGroup(), RoundsViewSet()]
