"""The API's shared pieces: the error shape every endpoint answers with, and its schema."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.api import ERROR_DESCRIPTIONS, ErrorOutput
from common.errors import DomainError
from organisations.acting import HEADER, PATIENT_HEADER


def _first_code(codes) -> str:
    """The first error code in DRF's nested codes (a string, list or dict of them)."""
    while isinstance(codes, (list, dict)):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _first_message(detail) -> str:
    while isinstance(detail, (list, dict)):
        if not detail:
            return "The request is not valid."
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


def _validation_body(exc: ValidationError) -> dict:
    """`{"detail", "code": "invalid", "field", "errors"}`, and each field's messages at the top level
    too (`{"email": ["Enter a valid email address."]}`), as clients of DRF's own shape expect."""
    detail = exc.detail or ["The request is not valid."]
    if not isinstance(detail, dict):
        detail = {"non_field_errors": detail}
    errors = {
        name: messages if isinstance(messages, list) else [messages] for name, messages in detail.items()
    }
    codes = exc.get_codes()
    code = "invalid"
    # A single non-field error may carry its own code (the token endpoint's "invalid_login").
    if set(errors) == {"non_field_errors"}:
        code = _first_code(codes)
        code = "invalid" if code in ("invalid", "required") else code
    body: dict = {**errors, "detail": _first_message(detail), "code": code, "errors": errors}
    first = next(iter(errors))
    if first != "non_field_errors":
        body["field"] = first
    return body


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error answers `{"detail": "...", "code": "..."}`, with `field` when one input is at fault.

    Domain errors (common.errors) answer with their own status, code and field; DRF's exceptions
    (authentication, permissions, throttling, validation, 404, 405) with DRF's status and code."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        response.data = _validation_body(exc)
    elif isinstance(exc, APIException):
        body = response.data if isinstance(response.data, dict) else {"detail": response.data}
        body.setdefault("detail", _first_message(exc.detail))
        body["detail"] = str(body["detail"])
        body.setdefault("code", _first_code(exc.get_codes()))
        response.data = body
    return response


def only_public_api(endpoints: list) -> list:
    """The OpenAPI schema documents /api/v1/ only, not the CMS admin's internal API."""
    return [e for e in endpoints if e[0].startswith("/api/v1/")]


# Every operation for signed-in callers takes the organisation they act for (organisations.acting).
ACTING_HEADER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string"},
    "description": "The organisation this request acts for: an ODS code (trusts, commissioners), a "
    "supplier's slug, or an organisation's id, of one the caller is a member of (403 naming the "
    "header otherwise). Needed only by callers who act for several: without it, reads act for the "
    "first by name and writes that need an organisation answer 400 naming the header.",
}
ACTING_PATIENT_HEADER = {
    "in": "header",
    "name": PATIENT_HEADER,
    "required": False,
    "schema": {"type": "string"},
    "description": "The patient this request acts for, by NHS number (spaces allowed): for a care "
    "coordinator (patients they coordinate) or a carer (patients they care for); prices and what a "
    "personal health budget may buy follow it. A patient the caller may not act for is refused (403 "
    "naming the header).",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus the error statuses every operation can answer, each with the
    error body: 400 (an operation with inputs), 401 and 403 (one that needs a signed-in caller), 404
    (a path that names an object). Views declare the rest (409, 429, 503) with `error_responses`."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        implied = set()
        if operation.get("requestBody") or any(
            p.get("in") == "query" for p in operation.get("parameters", [])
        ):
            implied.add(400)
        security = operation.get("security") or [{}]
        if {} not in security:
            implied |= {401, 403}
            operation.setdefault("parameters", []).extend([ACTING_HEADER, ACTING_PATIENT_HEADER])
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            implied.add(404)
        for status in sorted(implied | {int(code) for code in responses if code[0] in "45"}):
            entry = responses.get(str(status), {})
            if entry.get("content"):
                continue
            described = OpenApiResponse(
                ErrorOutput, description=entry.get("description") or ERROR_DESCRIPTIONS.get(status, "")
            )
            responses[str(status)] = self._get_response_for_code(described, str(status))
        operation["responses"] = dict(sorted(responses.items()))
        return operation
