"""Purchasing in the back office (Wagtail admin at /cms/), read-only.

Orders, baskets' results and trusts' purchasing settings change only through `purchasing.services`
(transitions audited and emailed, settings by a trust's admin), so the back office lists and
inspects them and never adds, changes or deletes.
"""

from __future__ import annotations

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from purchasing.agreements.wagtail_hooks import NegotiatedPriceViewSet
from purchasing.models import CostCentre, DeliverySite, NegotiatedPrice, PurchaseOrder, PurchasingSettings


class ViewOnlyPermissionPolicy(ModelPermissionPolicy):
    """Django's "view" permission and nothing else."""

    def user_has_permission(self, user, action: str) -> bool:
        return action == "view" and super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action: str, instance) -> bool:
        return self.user_has_permission(user, action)

    def user_has_any_permission(self, user, actions) -> bool:
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_any_permission_for_instance(self, user, actions, instance) -> bool:
        return self.user_has_any_permission(user, actions)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission([a for a in actions if a == "view"])


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


@hooks.register("register_admin_viewset")
def register_purchasing_viewsets():
    return PurchasingViewSetGroup()
