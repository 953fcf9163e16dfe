"""Negotiated prices in the back office, read-only: they are set and withdrawn only by the supplier
(`purchasing.agreements.services`, audited). Added to purchasing's menu group by
`purchasing.wagtail_hooks`."""

from __future__ import annotations

from wagtail.admin.viewsets.model import ModelViewSet

from purchasing.agreements.models import NegotiatedPrice


class NegotiatedPriceViewSet(ModelViewSet):
    model = NegotiatedPrice
    icon = "tag"
    menu_label = "Negotiated prices"
    form_fields = ["note"]  # never shown: nobody may change a negotiated price here
    list_display = ["reference", "supplier", "offer", "pack_price", "valid_from", "valid_to", "withdrawn_at"]
    list_filter = ["valid_from", "valid_to"]
    search_fields = ["reference", "supplier__name", "offer__supplier_sku", "trusts__name"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "reference",
        "supplier",
        "offer",
        "trusts",
        "pack_price",
        "valid_from",
        "valid_to",
        "note",
        "created_by",
        "created_at",
        "withdrawn_at",
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=NegotiatedPrice.objects.select_related("supplier", "offer"), **kwargs
        )
