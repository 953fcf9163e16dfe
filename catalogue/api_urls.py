from django.urls import path

from catalogue import api, import_api

urlpatterns: list = [
    path("products/", api.ProductListApi.as_view(), name="api-product-list"),
    path("products/<int:pk>/", api.ProductDetailApi.as_view(), name="api-product-detail"),
    path("offers/", api.OfferListApi.as_view(), name="api-offer-list"),
    path("offers/<int:pk>/", api.OfferDetailApi.as_view(), name="api-offer-detail"),
]

# Catalogue file uploads: POST catalogue/imports/, GET catalogue/imports/{id}/.
urlpatterns += import_api.urlpatterns
