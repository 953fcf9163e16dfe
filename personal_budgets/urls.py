from django.urls import path

from personal_budgets import views

app_name = "personal_budgets"
urlpatterns = [
    path("", views.home, name="home"),
    path("plan/agree/", views.plan_agree, name="plan-agree"),
    path("shop/", views.shop, name="shop"),
    path("shop/<int:offer_id>/", views.buy, name="buy"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:order_id>/", views.order, name="order"),
    path("orders/<int:order_id>/send-back/", views.send_back, name="send-back"),
    path("statement/", views.statement, name="statement"),
    path("statement.csv", views.statement_csv, name="statement-csv"),
    path("statement.pdf", views.statement_pdf, name="statement-pdf"),
    path("carers/", views.carers, name="carers"),
    path("coordinator/", views.coordinator, name="coordinator"),
    path("coordinator/<int:spend_id>/", views.decide, name="decide"),
    path("coordinator/budgets/<int:budget_id>/plan/", views.plan, name="plan"),
    path("coordinator/budgets/<int:budget_id>/plan/new/", views.plan_write, name="plan-write"),
    path("commissioner/", views.commissioner, name="commissioner"),
    path("commissioner/budgets/new/", views.budget_new, name="budget-new"),
    path("commissioner/budgets/<int:budget_id>/allocate/", views.allocate, name="allocate"),
    path("commissioner/budgets/<int:budget_id>/change/", views.budget_change, name="budget-change"),
    path(
        "commissioner/budgets/<int:budget_id>/allocations/<int:allocation_id>/cancel/",
        views.allocation_cancel,
        name="allocation-cancel",
    ),
    path("commissioner/report/", views.report, name="report"),
    path("commissioner/report.csv", views.report_csv, name="report-csv"),
    path("commissioner/report.pdf", views.report_pdf, name="report-pdf"),
]
