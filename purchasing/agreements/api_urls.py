"""Negotiated prices' API routes, included under /api/v1/ by marketplace/api_urls.py."""

from django.urls import path

from purchasing.agreements import api

urlpatterns = [
    path("negotiated-prices/", api.NegotiatedPriceListApi.as_view(), name="purchasing-api-negotiated-prices"),
    path(
        "negotiated-prices/<int:pk>/",
        api.NegotiatedPriceDetailApi.as_view(),
        name="purchasing-api-negotiated-price",
    ),
    path(
        "negotiated-prices/<int:pk>/withdraw/",
        api.NegotiatedPriceWithdrawApi.as_view(),
        name="purchasing-api-negotiated-price-withdraw",
    ),
]
