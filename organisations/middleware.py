"""`request.acting`, lazily (no query unless a view or template reads it), and a page request whose
`X-Acting-Organisation` header names an organisation the user does not act for answers 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.views.defaults import permission_denied

from organisations.acting import ActingRefused, acting_for


class ActingMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.acting = SimpleLazyObject(lambda: acting_for(request))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, ActingRefused):
            return permission_denied(request, PermissionDenied(exception.message))
        return None
