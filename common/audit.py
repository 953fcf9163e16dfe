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
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_identifier=identifier[:254],
        organisation_id=organisation_id,
        subject=subject[:200],
        ip_address=client_ip(request),
        data=data or {},
    )
