from django.urls import path

from pricing import api

urlpatterns = [
    path(
        "pricing/products/<int:product_id>/variance/",
        api.ProductVarianceApi.as_view(),
        name="pricing-api-variance",
    ),
    path(
        "pricing/trusts/<str:ods_code>/savings/",
        api.TrustSavingsApi.as_view(),
        name="pricing-api-trust-savings",
    ),
    path("pricing/savings/", api.NationalSavingsApi.as_view(), name="pricing-api-savings"),
    path("pricing/imports/", api.ImportCreateApi.as_view(), name="pricing-api-imports"),
    path("pricing/imports/<int:job_id>/", api.ImportDetailApi.as_view(), name="pricing-api-import"),
]
