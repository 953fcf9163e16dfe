"""The REST API under /api/v1/: each app contributes its routes through its own api_urls module."""

from django.urls import include, path, re_path

from marketplace import api_views

urlpatterns = [
    path("", api_views.api_root, name="api-root"),
    path("auth/token/", api_views.ObtainTokenView.as_view(), name="api-token"),
    path("", include("organisations.api_urls")),
    path("", include("catalogue.api_urls")),
    path("", include("catalogue.search.api_urls")),
    path("", include("pricing.api_urls")),
    path("", include("purchasing.api_urls")),
    path("", include("purchasing.documents.api_urls")),
    path("", include("purchasing.agreements.api_urls")),
    path("", include("personal_budgets.api_urls")),
    # Anything else under /api/v1/ answers in the API's own shape, not with an HTML page.
    re_path(r"^.*$", api_views.not_found),
]
