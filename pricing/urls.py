from django.urls import path

from pricing import views

app_name = "pricing"
urlpatterns = [
    path("", views.national, name="national"),
    path("products/<int:product_id>/", views.product_variance, name="product"),
    path("trusts/<str:ods_code>/", views.trust_dashboard, name="trust"),
    path("trusts/<str:ods_code>/report.<str:fmt>", views.trust_report, name="trust-report"),
    path("trusts/<str:ods_code>/unmatched/", views.unmatched, name="unmatched"),
    path("imports/new/", views.upload, name="upload"),
    path("imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/status.json", views.import_status, name="import-status"),
    path("imports/template.<str:fmt>", views.template, name="template"),
]
