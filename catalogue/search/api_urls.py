from django.urls import path

from catalogue.search import api as search_api

urlpatterns = [
    path("search/", search_api.SearchApi.as_view(), name="api-search"),
    path("search/autocomplete/", search_api.AutocompleteApi.as_view(), name="api-search-autocomplete"),
]
