"""The order documents' API routes, included under /api/v1/ by marketplace/api_urls.py."""

from django.urls import path

from purchasing.documents import api

urlpatterns = [
    path("orders/<int:order_id>/pdf/", api.OrderPdfApi.as_view(), name="purchasing-api-order-pdf"),
    path("orders/<int:order_id>/ubl/", api.OrderUblApi.as_view(), name="purchasing-api-order-ubl"),
    path(
        "orders/<int:order_id>/order-response/",
        api.OrderResponseApi.as_view(),
        name="purchasing-api-order-response",
    ),
]
