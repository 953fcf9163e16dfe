"""The site's URLs with the order documents' API included as marketplace/api_urls.py will include it
(before the API's catch-all), for the documents' API tests."""

from django.urls import include, path

from marketplace import urls

urlpatterns = [path("api/v1/", include("purchasing.documents.api_urls")), *urls.urlpatterns]
