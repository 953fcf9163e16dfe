"""The catalogue in the back office (Wagtail admin at /cms/): categories, products, offers, and the
moderation queue where the marketplace team approves or rejects suppliers' new offers and changes.

Offers are read-only here: they change only through `catalogue.services` (the supplier portal,
the API, file imports, and the approve/reject actions below), so the moderation rules always hold.
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
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from catalogue import selectors, services
from catalogue.forms import RejectForm
from catalogue.models import Category, Offer, Product
from common.errors import DomainError, NotFound

MODERATION_PER_PAGE = 50


class LimitedPermissionPolicy(ModelPermissionPolicy):
    """Django's model permissions, except for actions nobody may take in the back office."""

    def __init__(self, model, *, denied: set[str]) -> None:
        super().__init__(model)
        self.denied = denied

    def user_has_permission(self, user, action: str) -> bool:
        return action not in self.denied and super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action: str, instance) -> bool:
        return self.user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission([a for a in actions if a not in self.denied])


# Categories come from the tree migration and imports (paths of children would go stale if one were
# renamed here); products are made by matching offers; offers change only through the services.
register_permission_policy(Category, LimitedPermissionPolicy(Category, denied={"add", "delete"}))
register_permission_policy(Product, LimitedPermissionPolicy(Product, denied={"add", "delete"}))
register_permission_policy(Offer, LimitedPermissionPolicy(Offer, denied={"add", "change", "delete"}))


class CategoryViewSet(ModelViewSet):
    model = Category
    icon = "folder-open-1"
    menu_label = "Categories"
    form_fields = ["description", "attribute_names"]
    list_display = ["path", "slug"]
    search_fields = ["name", "path"]
    copy_view_enabled = False
    inspect_view_enabled = True


class ProductViewSet(ModelViewSet):
    model = Product
    icon = "doc-full"
    menu_label = "Products"
    form_fields = ["name", "description", "category", "image", "attributes", "is_active"]
    list_display = ["name", "category", "manufacturer", "gtin", "npc", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "manufacturer", "manufacturer_part_number", "gtin", "npc"]
    copy_view_enabled = False
    inspect_view_enabled = True

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(queryset=Product.objects.select_related("category"), **kwargs)


class OfferViewSet(ModelViewSet):
    model = Offer
    icon = "tag"
    menu_label = "Offers"
    form_fields = ["status"]  # never shown: nobody may change offers here
    list_display = [
        "supplier_sku",
        "product",
        "supplier",
        "pack_price",
        "units_per_pack",
        "status",
        "updated_at",
    ]
    list_filter = ["status", "stock_status", "patient_eligible"]
    search_fields = ["supplier_sku", "product__name", "supplier__name"]
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "supplier",
        "product",
        "supplier_sku",
        "pack_price",
        "vat_rate",
        "units_per_pack",
        "unit_price",
        "lead_time_days",
        "min_order_packs",
        "stock_status",
        "patient_eligible",
        "valid_from",
        "valid_to",
        "status",
        "pending_changes",
        "moderation_note",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=Offer.objects.select_related("product", "supplier"), **kwargs
        )


class CatalogueViewSetGroup(ModelViewSetGroup):
    menu_label = "Catalogue"
    menu_icon = "folder-open-inverse"
    menu_order = 210
    items = (
        CategoryViewSet("catalogue-categories"),
        ProductViewSet("catalogue-products"),
        OfferViewSet("catalogue-offers"),
    )


# Moderation ---------------------------------------------------------------------------------------


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


@hooks.register("register_admin_viewset")
def register_catalogue_viewsets():
    return [CatalogueViewSetGroup(), ModerationViewSet()]
