"""The catalogue's API paths, room by room (the search room has its own, catalogue.search.api_urls)."""

from django.urls import path

from catalogue.browse import api as browse_api
from catalogue.imports import api as imports_api
from catalogue.portal import api as portal_api

urlpatterns: list = [
    path("products/", browse_api.ProductListApi.as_view(), name="api-product-list"),
    path("products/<int:pk>/", browse_api.ProductDetailApi.as_view(), name="api-product-detail"),
    path("offers/", portal_api.OfferListApi.as_view(), name="api-offer-list"),
    path("offers/<int:pk>/", portal_api.OfferDetailApi.as_view(), name="api-offer-detail"),
    # Catalogue file uploads: POST catalogue/imports/, GET catalogue/imports/{id}/.
    *imports_api.urlpatterns,
]
