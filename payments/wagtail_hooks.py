"""Payments in the back office (Wagtail admin at /cms/), read-only, for finance staff.

Payments, refunds and webhook events change only through `payments.services` (Stripe's answers and
webhooks), so the back office lists and inspects them and never adds, changes or deletes. The card
reconciliation page lists every card payment with our state, Stripe's (when asked: one request per
payment, so only on the button) and the ledger's, and the differences in words; it needs the
"view payment" permission (give it to a finance group).
"""

from __future__ import annotations

from django.urls import path, reverse
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from common.back_office import ViewOnlyPermissionPolicy
from payments import selectors
from payments.models import Payment, Refund, WebhookEvent

RECONCILIATION_LIMIT = 200


for _model in (Payment, Refund, WebhookEvent):
    register_permission_policy(_model, ViewOnlyPermissionPolicy(_model))


class PaymentViewSet(ModelViewSet):
    model = Payment
    icon = "doc-full"
    menu_label = "Card payments"
    form_fields = ["reference"]  # never shown: nobody may change payments here
    list_display = [
        "reference",
        "amount_pence",
        "state",
        "amount_refunded_pence",
        "provider_id",
        "created_at",
    ]
    list_filter = ["state"]
    search_fields = ["reference", "provider_id"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    # Never the client secret.
    inspect_view_fields = [
        "reference",
        "amount_pence",
        "currency",
        "state",
        "provider",
        "provider_id",
        "provider_status",
        "amount_refunded_pence",
        "expires_at",
        "state_changed_at",
        "created_at",
        "updated_at",
    ]


class WebhookEventViewSet(ModelViewSet):
    model = WebhookEvent
    icon = "resubmit"
    menu_label = "Stripe events"
    form_fields = ["type"]
    list_display = ["event_id", "type", "outcome", "payment", "received_at", "processed_at"]
    list_filter = ["outcome", "type"]
    search_fields = ["event_id", "type"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = ["event_id", "type", "livemode", "outcome", "detail", "payment", "payload"]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=WebhookEvent.objects.select_related("payment"), **kwargs
        )


class PaymentsViewSetGroup(ModelViewSetGroup):
    menu_label = "Payments"
    menu_icon = "doc-full"
    menu_order = 230
    items = (
        PaymentViewSet("payments-payments", url_prefix="payments/payments"),
        WebhookEventViewSet("payments-events", url_prefix="payments/events"),
    )


class ReconciliationView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Every card payment (the newest RECONCILIATION_LIMIT) against Stripe and the books."""

    model = Payment
    permission_required = "view"
    page_title = "Card reconciliation"
    header_icon = "table"
    template_name = "payments/reconciliation.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        fetch = self.request.GET.get("stripe") == "1" and selectors.stripe_readable()
        lines = selectors.reconciliation(
            selectors.payments_for_reconciliation(limit=RECONCILIATION_LIMIT), fetch=fetch
        )
        context.update(
            lines=lines,
            fetched=fetch,
            stripe_readable=selectors.stripe_readable(),
            sources=selectors.reconciliation_source_names(),
            differing=sum(not line.ok for line in lines),
            limit=RECONCILIATION_LIMIT,
        )
        return context


class ReconciliationMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return ViewOnlyPermissionPolicy(Payment).user_has_permission(request.user, "view")


@hooks.register("register_admin_viewset")
def register_payments_viewsets():
    return PaymentsViewSetGroup()


@hooks.register("register_admin_urls")
def register_reconciliation_url():
    return [path("payments/reconciliation/", ReconciliationView.as_view(), name="payments_reconciliation")]


@hooks.register("register_admin_menu_item")
def register_reconciliation_menu_item():
    return ReconciliationMenuItem(
        "Card reconciliation", reverse("payments_reconciliation"), icon_name="table", order=231
    )
