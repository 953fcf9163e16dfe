from django.urls import path

from catalogue.search import views as search_views

app_name = "search"
urlpatterns = [
    path("", search_views.search_results, name="results"),
    path("autocomplete/", search_views.autocomplete, name="autocomplete"),
]
