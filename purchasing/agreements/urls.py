"""Negotiated prices' pages, included by purchasing/urls.py (so under the purchasing: namespace)."""

from django.urls import path

from purchasing.agreements import views

urlpatterns = [
    path("supplier/negotiated-prices/", views.supplier_prices, name="negotiated-prices"),
    path("supplier/negotiated-prices/new/", views.price_new, name="negotiated-price-new"),
    path("supplier/negotiated-prices/<int:price_id>/", views.price_detail, name="negotiated-price"),
    path("contract-prices/", views.trust_prices, name="contract-prices"),
]
