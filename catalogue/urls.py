from django.urls import path

from catalogue import views

app_name = "catalogue"
urlpatterns: list = [
    path("", views.category_index, name="index"),
    path("categories/<slug:slug>/", views.category_detail, name="category-detail"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
]
