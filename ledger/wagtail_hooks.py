"""The ledger in the back office (Wagtail admin at /cms/), read-only.

Accounts and transfers change only through `ledger.services` (a correction is a new transfer), so
the back office lists, searches and inspects them and never adds, changes or deletes.
"""

from __future__ import annotations

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from common.back_office import ViewOnlyPermissionPolicy
from ledger.models import Account, Transfer

for _model in (Account, Transfer):
    register_permission_policy(_model, ViewOnlyPermissionPolicy(_model))


class AccountViewSet(ModelViewSet):
    model = Account
    icon = "table"
    menu_label = "Accounts"
    form_fields = ["name"]  # never shown: nobody may change accounts here
    list_display = ["code", "name", "kind", "debits_posted", "credits_posted", "debits_pending", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "code",
        "name",
        "kind",
        "debits_must_not_exceed_credits",
        "credits_must_not_exceed_debits",
        "debits_posted",
        "credits_posted",
        "debits_pending",
        "credits_pending",
        "created_at",
    ]


class TransferViewSet(ModelViewSet):
    model = Transfer
    icon = "arrow-right"
    menu_label = "Transfers"
    form_fields = ["reference"]  # never shown: transfers are never changed
    list_display = ["id", "kind", "debit_account", "credit_account", "amount", "code", "state", "created_at"]
    list_filter = ["kind", "state", "code"]
    search_fields = ["reference", "code", "debit_account__code", "credit_account__code"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "id",
        "kind",
        "debit_account",
        "credit_account",
        "amount",
        "code",
        "reference",
        "pending",
        "state",
        "pending_of",
        "expires_at",
        "created_at",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=Transfer.objects.select_related("debit_account", "credit_account"), **kwargs
        )


class LedgerViewSetGroup(ModelViewSetGroup):
    menu_label = "Ledger"
    menu_icon = "table"
    menu_order = 230
    items = (
        AccountViewSet("ledger-accounts", url_prefix="ledger/accounts"),
        TransferViewSet("ledger-transfers", url_prefix="ledger/transfers"),
    )


@hooks.register("register_admin_viewset")
def register_ledger_viewsets():
    return LedgerViewSetGroup()
