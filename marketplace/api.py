"""The API's shared pieces: the error shape every endpoint answers with."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DomainError


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus domain errors answered as 400 with the field they name."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    return drf_exception_handler(exc, context)


def only_public_api(endpoints: list) -> list:
    """The OpenAPI schema documents /api/v1/ only, not the CMS admin's internal API."""
    return [e for e in endpoints if e[0].startswith("/api/v1/")]
