"""Authentication events appended to the audit log (connected in OrganisationsConfig.ready).

Audit is a side effect of Django's and django-axes' own signals, so every way of signing in
(the sign-in page, the API token endpoint, the CMS login) is recorded the same way.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from common import audit
from organisations.services import LOCKED_OUT, SIGN_IN_FAILED, SIGNED_IN, SIGNED_OUT


def _http_request(request: Any) -> Any:
    # DRF wraps Django's request; the audit log reads META from the original.
    return getattr(request, "_request", request)


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def record_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(kind=SIGNED_IN, actor=user, subject="session", request=_http_request(request))


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_sign_in_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # Django masks the password in `credentials`; only the identifier is kept.
    identifier = str(credentials.get("username") or credentials.get("email") or "")
    audit.record(
        kind=SIGN_IN_FAILED,
        actor_identifier=identifier.lower(),
        subject="session",
        request=_http_request(request),
    )


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def record_sign_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    audit.record(kind=SIGNED_OUT, actor=user, subject="session", request=_http_request(request))


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def record_locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str, **kwargs: Any
) -> None:
    audit.record(
        kind=LOCKED_OUT,
        actor_identifier=(username or "").lower(),
        subject="session",
        request=_http_request(request),
        data={"ip_address": ip_address},
    )
