"""The moderation room: the marketplace team's queue of suppliers' new offers and changes, in the
back office (Wagtail admin at /cms/moderation/), with approve and reject.

Decisions go through `catalogue.services.offer_approve` / `offer_reject`, which apply the rules and
write the audit log; the views only show and route. Registered by `catalogue.wagtail_hooks`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem
from wagtail.admin.viewsets.base import ViewSet

from catalogue import selectors, services
from catalogue.models import Offer
from catalogue.moderation.forms import RejectForm
from common.errors import DomainError, NotFound

MODERATION_PER_PAGE = 50


def _moderator_or_403(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only the marketplace team moderates offers.")


def _item_or_404(pk: int) -> Offer:
    try:
        return selectors.moderation_item(offer_id=pk)
    except NotFound:
        raise Http404("Nothing about this offer is waiting for moderation.") from None


def moderation_queue(request: HttpRequest) -> HttpResponse:
    _moderator_or_403(request)
    page = Paginator(selectors.moderation_queue(), MODERATION_PER_PAGE).get_page(request.GET.get("p"))
    items = [{"offer": offer, "changes": selectors.pending_change_list(offer=offer)} for offer in page]
    return TemplateResponse(
        request,
        "catalogue/admin/moderation_queue.html",
        {
            "page": page,
            "items": items,
            "page_title": "Offers awaiting moderation",
            "header_title": "Offers awaiting moderation",
        },
    )


@require_POST
def moderation_approve(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator_or_403(request)
    offer = _item_or_404(pk)
    was_new = offer.pending_changes is None
    try:
        services.offer_approve(offer=offer, moderator=request.user)
    except DomainError as error:
        messages.error(request, f"{offer.supplier_sku}: {error.message}")
    else:
        what = "is live" if was_new else "changes are live"
        messages.success(request, f"{offer.supplier}'s offer {offer.supplier_sku} {what}.")
    return redirect("catalogue-moderation:index")


@require_http_methods(["GET", "POST"])
def moderation_reject(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator_or_403(request)
    offer = _item_or_404(pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_reject(offer=offer, moderator=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error("reason" if error.field == "reason" else None, error.message)
        else:
            messages.success(request, f"{offer.supplier}'s offer {offer.supplier_sku} was turned down.")
            return redirect("catalogue-moderation:index")
    return TemplateResponse(
        request,
        "catalogue/admin/moderation_reject.html",
        {
            "offer": offer,
            "form": form,
            "changes": selectors.pending_change_list(offer=offer),
            "page_title": f"Reject {offer.supplier_sku}",
            "header_title": f"Reject {offer.supplier_sku}",
        },
    )


class ModerationMenuItem(MenuItem):
    """'Moderation' with the number of offers waiting, for the marketplace team."""

    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.is_staff

    def render_component(self, request: HttpRequest):
        count = selectors.moderation_queue_count()
        label = f"{self.label} ({count})" if count else self.label
        return LinkMenuItem(self.name, label, self.url, icon_name=self.icon_name, attrs=self.attrs)


class ModerationViewSet(ViewSet):
    name = "catalogue-moderation"
    icon = "tasks"
    menu_icon = "tasks"
    menu_label = "Moderation"
    menu_name = "offer-moderation"
    menu_order = 205
    add_to_admin_menu = True
    menu_item_class = ModerationMenuItem

    @property
    def menu_url(self) -> str:
        return reverse(self.get_url_name("index"))

    def get_urlpatterns(self) -> list:
        return [
            path("", moderation_queue, name="index"),
            path("<int:pk>/approve/", moderation_approve, name="approve"),
            path("<int:pk>/reject/", moderation_reject, name="reject"),
        ]
