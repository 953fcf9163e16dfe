from django.urls import path

from personal_budgets.topups import views

app_name = "topups"
urlpatterns = [
    path("shop/<int:offer_id>/", views.start, name="start"),
    path("orders/<int:order_id>/pay/", views.pay, name="pay"),
    path("orders/<int:order_id>/", views.status_page, name="status"),
    path("orders/<int:order_id>/status.json", views.status_json, name="status-json"),
]
