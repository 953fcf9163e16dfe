"""Personal budgets in the back office (Wagtail admin at /cms/), read-only.

Budgets, their allocations and support plans change only through `personal_budgets.services` (the
money through the ledger, plans by the care coordinator and the patient), so the back office lists,
filters, searches and inspects them and never adds, changes or deletes: the "view" permission and
nothing else, for a superuser too.
"""

from __future__ import annotations

from wagtail import hooks
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from common.back_office import ViewOnlyPermissionPolicy
from personal_budgets.models import Allocation, Budget, SupportPlan

for _model in (Budget, Allocation, SupportPlan):
    register_permission_policy(_model, ViewOnlyPermissionPolicy(_model))


class BudgetViewSet(ModelViewSet):
    model = Budget
    icon = "folder-open-inverse"
    menu_label = "Budgets"
    form_fields = ["name"]  # never shown: nobody may change budgets here
    list_display = ["patient", "name", "kind", "commissioner", "amount", "period_start", "period_end"]
    list_filter = ["kind", "commissioner"]
    search_fields = ["name", "patient__user__full_name", "patient__nhs_number", "wallet__code"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "patient",
        "commissioner",
        "name",
        "kind",
        "amount",
        "period_start",
        "period_end",
        "wallet",
        "created_by",
        "created_at",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=Budget.objects.select_related("patient__user", "commissioner"), **kwargs
        )


class AllocationViewSet(ModelViewSet):
    model = Allocation
    icon = "arrow-right"
    menu_label = "Allocations"
    form_fields = ["note"]  # never shown: money moves only through the ledger
    list_display = ["budget", "kind", "amount", "due_on", "state", "made_at"]
    list_filter = ["state", "kind", "budget__commissioner"]
    search_fields = ["budget__patient__user__full_name", "budget__name", "note"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "budget",
        "kind",
        "amount",
        "due_on",
        "state",
        "made_at",
        "transfer_id",
        "note",
        "created_by",
        "created_at",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=Allocation.objects.select_related("budget__patient__user"), **kwargs
        )


class SupportPlanInspectView(InspectView):
    """Many-to-many rules (categories, products) listed by name, not as a manager's repr."""

    def get_field_display_value(self, field_name, field):
        if field is not None and field.many_to_many:
            names = [str(row) for row in getattr(self.object, field_name).all()]
            return ", ".join(names) or "None"
        return super().get_field_display_value(field_name, field)


class SupportPlanViewSet(ModelViewSet):
    """Every version of every plan, newest first: a revision is a new row, so the list is the history."""

    model = SupportPlan
    icon = "list-ol"
    menu_label = "Support plans"
    form_fields = ["notes"]  # never shown: plans change only through the coordinator and patient
    list_display = [
        "budget",
        "version",
        "item_cap",
        "period_cap",
        "cap_period_months",
        "proposed_at",
        "patient_agreed_at",
    ]
    list_filter = ["budget__commissioner", "top_ups_allowed"]
    search_fields = ["budget__patient__user__full_name", "budget__name", "notes"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = SupportPlanInspectView
    inspect_view_fields = [
        "budget",
        "version",
        "categories",
        "item_cap",
        "over_cap_with_approval",
        "period_cap",
        "cap_period_months",
        "approval_categories",
        "approval_products",
        "top_ups_allowed",
        "notes",
        "proposed_by",
        "proposed_at",
        "patient_agreed_by",
        "patient_agreed_at",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=SupportPlan.objects.select_related("budget__patient__user").order_by(
                "budget_id", "-version"
            ),
            **kwargs,
        )


class PersonalBudgetsViewSetGroup(ModelViewSetGroup):
    menu_label = "Personal budgets"
    menu_icon = "folder-open-inverse"
    menu_order = 240
    items = (
        BudgetViewSet("personal-budgets-budgets", url_prefix="personal-budgets/budgets"),
        AllocationViewSet("personal-budgets-allocations", url_prefix="personal-budgets/allocations"),
        SupportPlanViewSet("personal-budgets-plans", url_prefix="personal-budgets/plans"),
    )


@hooks.register("register_admin_viewset")
def register_personal_budgets_viewsets():
    return PersonalBudgetsViewSetGroup()
