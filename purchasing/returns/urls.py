"""The returns pages, included under purchasing's namespace by `purchasing/urls.py`."""

from django.urls import path

from purchasing.returns import views

urlpatterns = [
    path(
        "supplier/orders/<int:order_id>/returns/<int:return_id>/",
        views.supplier_return,
        name="supplier-return",
    ),
]
