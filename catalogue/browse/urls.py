from django.urls import path

from catalogue.browse import views

urlpatterns = [
    path("", views.category_index, name="index"),
    path("categories/<slug:slug>/", views.category_detail, name="category-detail"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
]
