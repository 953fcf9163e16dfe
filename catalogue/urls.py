from django.urls import path

from catalogue import import_views, supplier_views, views

app_name = "catalogue"
urlpatterns: list = [
    path("", views.category_index, name="index"),
    path("categories/<slug:slug>/", views.category_detail, name="category-detail"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
    path("supplier/offers/", supplier_views.offer_list, name="supplier-offers"),
    path("supplier/offers/new/", supplier_views.offer_create, name="supplier-offer-create"),
    path("supplier/offers/<int:pk>/", supplier_views.offer_edit, name="supplier-offer-edit"),
    path("supplier/offers/<int:pk>/withdraw/", supplier_views.offer_withdraw, name="supplier-offer-withdraw"),
    path("supplier/offers/<int:pk>/submit/", supplier_views.offer_submit, name="supplier-offer-submit"),
]

# Catalogue file uploads (catalogue.import_views): upload, progress and outcome, templates.
urlpatterns += import_views.urlpatterns
