"""Response headers every page carries: what the browser may do, and what it may keep."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

from common import audit


class SecurityHeadersMiddleware:
    """`Permissions-Policy` on every response, and `Cache-Control: private, no-store` on every
    response to someone signed in: their pages, reports and API answers hold a trust's figures or a
    supplier's prices, and a shared computer or a proxy must not keep them. Placed first in
    MIDDLEWARE so it sees the user DRF signs in by token as well as the session's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


# Routes whose URL names an object (an upload, a trust, an organisation): a signed-in user's 404
# there is how scoping refuses another organisation's object, so it is audited as a denial.
OBJECT_KWARGS = {"pk", "id", "job_id", "product_id", "ods_code", "offer_id", "line_id", "slug"}


class AuditDeniedAccessMiddleware:
    """Every refused request reaches the audit log, whichever app refused it: 401 and 403 anywhere
    (pages, API, back office), a signed-in user's 404 on a route that names an object, and a
    signed-in user without back-office access turned away from /cms/. Each event says whether the
    user came by token or session. Views that audit their own refusals are not recorded twice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self._denied(request, response.status_code):
            audit.record_denied_access(request, status=response.status_code)
        return response

    @staticmethod
    def _denied(request: HttpRequest, status: int) -> bool:
        if status in (401, 403):
            return True
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if (
            request.path.startswith("/cms/")
            and not request.path.startswith("/cms/login/")
            and status in (302, 403)
            and not user.has_perm("wagtailadmin.access_admin")
        ):
            return True
        match = getattr(request, "resolver_match", None)
        return status == 404 and match is not None and bool(OBJECT_KWARGS & set(match.kwargs))
