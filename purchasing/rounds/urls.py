"""The rounds pages, included under purchasing's namespace (`purchasing:rounds`, `purchasing:round`,
...) by `purchasing/urls.py`."""

from django.urls import path

from purchasing.rounds import views

urlpatterns = [
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/commitments/", views.commitments, name="round-commitments"),
    path("rounds/<int:round_id>/", views.round_detail, name="round"),
    path("rounds/<int:round_id>/live/", views.round_live, name="round-live"),
    path("rounds/<int:round_id>/cancel/", views.round_cancel, name="round-cancel"),
    path("rounds/propose/", views.propose_for_trust, name="round-propose-trust"),
    path("supplier/rounds/", views.supplier_rounds, name="rounds-supplier"),
    path("supplier/rounds/propose/", views.propose, name="round-propose"),
    path("supplier/rounds/<int:round_id>/", views.supplier_round, name="round-supplier"),
]
