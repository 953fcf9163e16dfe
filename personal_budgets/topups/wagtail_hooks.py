"""Card top-ups in the back office (Wagtail admin at /cms/), read-only, beside the card payments and
the card reconciliation page: every top-up with its split, its card payment's state (ours and
Stripe's last word) and, on its own page, the order's ledger transfers, the payment's refunds and
Stripe events, and its reconciliation line (Stripe asked only on the button). Nothing here changes
anything; it needs the "view payment" permission, as the reconciliation page does."""

from __future__ import annotations

from django.http import Http404
from django.urls import path, reverse
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from common.errors import NotFound
from payments.models import Payment
from payments.selectors import stripe_readable
from personal_budgets.topups import selectors
from personal_budgets.topups.models import TopUpState


class TopUpListView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    model = Payment
    permission_required = "view"
    page_title = "Card top-ups"
    header_icon = "doc-full"
    template_name = "personal_budgets/topups/admin/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        state = self.request.GET.get("state", "")
        context.update(
            top_ups=selectors.top_ups_for_back_office(state=state),
            states=TopUpState.choices,
            state=state,
            limit=selectors.BACK_OFFICE_LIMIT,
        )
        return context


class TopUpDetailView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    model = Payment
    permission_required = "view"
    header_icon = "doc-full"
    template_name = "personal_budgets/topups/admin/detail.html"

    def get_page_title(self) -> str:
        return f"Card top-up {self.kwargs['pk']}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        fetch = self.request.GET.get("stripe") == "1" and stripe_readable()
        try:
            detail = selectors.top_up_detail(top_up_id=self.kwargs["pk"], fetch=fetch)
        except NotFound:
            raise Http404("No such top-up.") from None
        context.update(detail=detail, fetched=fetch, stripe_readable=stripe_readable())
        return context


class TopUpsMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        # Payments' own policy for Payment is Django's "view payment" and nothing else.
        return request.user.has_perm("payments.view_payment")


@hooks.register("register_admin_urls")
def register_top_up_urls():
    return [
        path("payments/top-ups/", TopUpListView.as_view(), name="topups_admin_list"),
        path("payments/top-ups/<int:pk>/", TopUpDetailView.as_view(), name="topups_admin_detail"),
    ]


@hooks.register("register_admin_menu_item")
def register_top_ups_menu_item():
    return TopUpsMenuItem("Card top-ups", reverse("topups_admin_list"), icon_name="doc-full", order=232)
