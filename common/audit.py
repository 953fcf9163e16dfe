"""The one way to append to the audit log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from common.clients import client_address
from common.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return client_address(request) or None


def record(
    *,
    kind: str,
    actor: Any = None,
    actor_identifier: str = "",
    organisation_id: int | None = None,
    subject: str = "",
    request: HttpRequest | None = None,
    data: dict | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user or None (anonymous, system)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    identifier = actor_identifier or (actor.get_username() if actor is not None else "")
    if request is not None and kind == AuditEvent.Kind.ACCESS_DENIED:
        # The view said why; the denied-access middleware must not record the same refusal again.
        getattr(request, "_request", request)._access_denial_recorded = True
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_identifier=identifier[:254],
        organisation_id=organisation_id,
        subject=subject[:200],
        ip_address=client_ip(request),
        data=data or {},
    )


def signed_in_by(request: HttpRequest) -> str:
    """How the request's user proved who they are: "token" (API), "session" (browser) or
    "anonymous". DRF copies the user and token it authenticated onto the Django request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    return "token" if getattr(request, "auth", None) is not None else "session"


def record_denied_access(request: HttpRequest, *, status: int) -> AuditEvent | None:
    """One ACCESS_DENIED event for a refused request, unless its view recorded one already."""
    if getattr(request, "_access_denial_recorded", False):
        return None
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    return record(
        kind=AuditEvent.Kind.ACCESS_DENIED,
        actor=user,
        subject=f"{request.method} {request.path}"[:200],
        request=request,
        data={
            "status": status,
            "via": signed_in_by(request),
            "route": match.view_name if match else "",
        },
    )
