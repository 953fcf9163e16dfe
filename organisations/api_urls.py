from django.urls import path

from organisations import api

urlpatterns = [
    path("organisations/me/", api.MyOrganisationsView.as_view(), name="api-organisations-me"),
]
