from django.urls import include, path

from purchasing import views

app_name = "purchasing"
urlpatterns = [
    path("basket/", views.basket, name="basket"),
    path("basket/add/", views.basket_add, name="basket-add"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:order_id>/", views.order_detail, name="order"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:order_id>/", views.approval_decision, name="approval-decision"),
    path("supplier/orders/", views.supplier_orders, name="supplier-orders"),
    path("supplier/orders/<int:order_id>/", views.supplier_order, name="supplier-order"),
    path("supplier/orders/<int:order_id>/invoice/", views.supplier_invoice, name="supplier-invoice"),
    path("settings/", views.settings, name="settings"),
    path("settings/delivery-sites/<int:site_id>/", views.settings_site, name="settings-site"),
    path("settings/cost-centres/<int:centre_id>/", views.settings_centre, name="settings-centre"),
    path("", include("purchasing.agreements.urls")),
    # Returns (purchasing/returns/urls.py), in the same namespace.
    path("", include("purchasing.returns.urls")),
    # Purchasing rounds (purchasing/rounds/urls.py), in the same namespace.
    path("", include("purchasing.rounds.urls")),
]
