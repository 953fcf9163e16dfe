from django.urls import path

from catalogue.portal import views

urlpatterns = [
    path("supplier/offers/", views.offer_list, name="supplier-offers"),
    path("supplier/offers/new/", views.offer_create, name="supplier-offer-create"),
    path("supplier/offers/<int:pk>/", views.offer_edit, name="supplier-offer-edit"),
    path("supplier/offers/<int:pk>/withdraw/", views.offer_withdraw, name="supplier-offer-withdraw"),
    path("supplier/offers/<int:pk>/submit/", views.offer_submit, name="supplier-offer-submit"),
]
