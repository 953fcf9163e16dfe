from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from common import audit
from organisations import services as organisations_services

# The same words as the sign-in page: never say whether the email or the password was wrong.
INVALID_LOGIN = "Enter a correct email address and password."


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    return Response(
        {
            "schema": reverse("api-schema", request=request),
            "docs": reverse("api-docs", request=request),
            "token": reverse("api-token", request=request),
            "my_organisations": reverse("api-organisations-me", request=request),
        }
    )


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
def not_found(request: Request) -> Response:
    """No API operation has this address (or its id is not a number): a 404 in the error shape."""
    raise NotFound("No API operation has this address.")


class AccountLocked(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed sign-ins: this account is locked for now. Try again later."
    default_code = "locked_out"


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, help_text="The email address you sign in with.")
    username = serializers.EmailField(
        required=False, help_text="Accepted in place of `email`, for clients built for Django's default."
    )
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs: dict) -> dict:
        email = attrs.get("email") or attrs.get("username")
        if not email:
            raise serializers.ValidationError({"email": "Enter your email address."})
        request = self.context["request"]
        # The request goes to authenticate() so that django-axes counts failures and locks out.
        user = authenticate(request=request, username=email, password=attrs["password"])
        if user is None:
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked()
            raise serializers.ValidationError(INVALID_LOGIN, code="invalid_login")
        attrs["user"] = user
        return attrs


class ObtainTokenView(APIView):
    """POST `email` (or `username`) and `password`; receive the token to send as `Authorization: Token <key>`.

    Throttled per client address (`API_TOKEN_THROTTLE_RATE`, default 10 a minute); repeated failures lock
    the account as on the sign-in page.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong details (one message, never which part) or no email."),
            429: OpenApiResponse(description="Throttled, or the account is locked after repeated failures."),
        },
        examples=[
            OpenApiExample(
                "Email and password",
                value={"email": "buyer@leeds.demo.example", "password": "********"},
                request_only=True,
            )
        ],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        # authenticate() alone sends no user_logged_in signal: record the sign-in here.
        audit.record(
            kind=organisations_services.SIGNED_IN, actor=user, subject="api-token", request=request._request
        )
        return Response({"token": token.key})
