"""The catalogue's pages, room by room, under one `catalogue:` namespace."""

from catalogue.browse.urls import urlpatterns as browse
from catalogue.imports.views import urlpatterns as imports
from catalogue.portal.urls import urlpatterns as portal

app_name = "catalogue"
urlpatterns: list = [*browse, *portal, *imports]
