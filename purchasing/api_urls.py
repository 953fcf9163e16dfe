"""Purchasing's API routes (included under /api/v1/ by marketplace.api_urls)."""

from django.urls import path

from purchasing import api
from purchasing.returns import api as returns_api
from purchasing.rounds import api as rounds_api

urlpatterns = [
    path("baskets/", api.BasketListApi.as_view(), name="purchasing-api-baskets"),
    path("baskets/<int:pk>/", api.BasketDetailApi.as_view(), name="purchasing-api-basket"),
    path("baskets/<int:pk>/lines/", api.BasketLineAddApi.as_view(), name="purchasing-api-basket-lines"),
    path(
        "baskets/<int:pk>/lines/<int:line_id>/",
        api.BasketLineApi.as_view(),
        name="purchasing-api-basket-line",
    ),
    path(
        "baskets/<int:pk>/lines/<int:line_id>/swap/",
        api.BasketLineSwapApi.as_view(),
        name="purchasing-api-basket-line-swap",
    ),
    path(
        "baskets/<int:pk>/checkout/", api.BasketCheckoutApi.as_view(), name="purchasing-api-basket-checkout"
    ),
    path("orders/", api.OrderListApi.as_view(), name="purchasing-api-orders"),
    path("orders/<int:pk>/", api.OrderDetailApi.as_view(), name="purchasing-api-order"),
    *(
        path(f"orders/<int:pk>/{name}/", view.as_view(), name=f"purchasing-api-order-{name}")
        for name, view in api.TRANSITION_APIS.items()
    ),
    # Returns (purchasing/returns/api.py): the order's returns, the supplier's answer.
    path(
        "orders/<int:pk>/returns/",
        returns_api.OrderReturnListApi.as_view(),
        name="purchasing-api-order-returns",
    ),
    path(
        "orders/<int:pk>/returns/<int:return_id>/accept/",
        returns_api.ReturnAcceptApi.as_view(),
        name="purchasing-api-return-accept",
    ),
    path(
        "orders/<int:pk>/returns/<int:return_id>/refuse/",
        returns_api.ReturnRefuseApi.as_view(),
        name="purchasing-api-return-refuse",
    ),
    # Aggregated purchasing rounds (purchasing/rounds/api.py).
    path("rounds/", rounds_api.RoundListApi.as_view(), name="purchasing-api-rounds"),
    path("rounds/<int:pk>/", rounds_api.RoundDetailApi.as_view(), name="purchasing-api-round"),
    path("rounds/<int:pk>/cancel/", rounds_api.RoundCancelApi.as_view(), name="purchasing-api-round-cancel"),
    path(
        "rounds/<int:pk>/commitments/",
        rounds_api.RoundCommitmentsApi.as_view(),
        name="purchasing-api-round-commitments",
    ),
]
