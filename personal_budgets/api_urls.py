"""Personal budgets' API routes (included under /api/v1/ by marketplace.api_urls)."""

from django.urls import path

from personal_budgets import api
from personal_budgets.topups import api as topups_api

urlpatterns = [
    path("wallets/", api.WalletListApi.as_view(), name="budgets-api-wallets"),
    path(
        "wallets/<int:pk>/transactions/",
        api.WalletTransactionsApi.as_view(),
        name="budgets-api-wallet-transactions",
    ),
    path("wallets/<int:pk>/plans/", api.PlanListApi.as_view(), name="budgets-api-wallet-plans"),
    path(
        "wallets/<int:pk>/plans/<int:version>/agree/",
        api.PlanAgreeApi.as_view(),
        name="budgets-api-wallet-plan-agree",
    ),
    path("allocations/", api.AllocationListApi.as_view(), name="budgets-api-allocations"),
    path(
        "allocations/<int:pk>/cancel/",
        api.AllocationCancelApi.as_view(),
        name="budgets-api-allocation-cancel",
    ),
    path("patient-orders/", api.PatientOrderListApi.as_view(), name="budgets-api-patient-orders"),
    path(
        "patient-orders/<int:pk>/top-up/",
        topups_api.TopUpPaymentApi.as_view(),
        name="budgets-api-patient-order-top-up",
    ),
    path(
        "patient-orders/<int:order_id>/returns/",
        api.PatientOrderReturnsApi.as_view(),
        name="budgets-api-patient-order-returns",
    ),
]
