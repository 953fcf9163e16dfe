"""The site's URLs plus a stand-in product page, until catalogue/urls.py (another branch) provides
`catalogue:product-detail`. Only the identifier-redirect tests use it; drop it at merge."""

from django.http import HttpResponse
from django.urls import include, path

from marketplace.urls import urlpatterns as site_urlpatterns


def product_page(request, slug: str) -> HttpResponse:
    return HttpResponse(f"product {slug}")


urlpatterns = [
    path(
        "catalogue/",
        include(([path("products/<slug:slug>/", product_page, name="product-detail")], "catalogue")),
    ),
    *[p for p in site_urlpatterns if str(p.pattern) != "catalogue/"],
]
