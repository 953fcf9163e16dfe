from pathlib import Path

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from marketplace import views

api_v1 = [
    path("", include("marketplace.api_urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("status/", views.status, name="status"),
    path("start/", views.start, name="start"),
    path("accounts/", include("organisations.urls")),
    path("catalogue/", include("catalogue.urls")),
    path("search/", include("catalogue.search.urls")),
    path("pricing/", include("pricing.urls")),
    path("purchasing/", include("purchasing.urls")),
    path("budgets/", include("personal_budgets.urls")),
    path("budgets/top-ups/", include("personal_budgets.topups.urls")),
    path("webhooks/", include("payments.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    # Only the CMS's image renditions, for development. MEDIA_ROOT as a whole is never served, not
    # even with DEBUG on: it holds trusts' and suppliers' uploaded files (imports/) and the CMS's
    # documents, which are served only by views that check who is asking.
    urlpatterns += static(f"{settings.MEDIA_URL}images/", document_root=Path(settings.MEDIA_ROOT) / "images")

handler500 = "marketplace.views.server_error"

# Wagtail serves the CMS pages (home, content pages) for everything not matched above.
urlpatterns.append(path("", include(wagtail_urls)))
