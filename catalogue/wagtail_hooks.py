"""The catalogue in the back office (Wagtail admin at /cms/): categories, products, offers, and the
moderation queue where the marketplace team approves or rejects suppliers' new offers and changes.

Offers are read-only here: they change only through `catalogue.services` (the supplier portal,
the API, file imports, and the approve/reject actions below), so the moderation rules always hold.
"""

from __future__ import annotations

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from catalogue.models import Category, Offer, Product
from catalogue.moderation.views import ModerationViewSet

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


@hooks.register("register_admin_viewset")
def register_catalogue_viewsets():
    return [CatalogueViewSetGroup(), ModerationViewSet()]
