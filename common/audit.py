"""The one way to append to the audit log, and the registry of the kinds of event it holds.

Each app declares the kinds it records, as namespaced strings, at import time of the module that
records them (usually its `services.py`):

    ORDER_APPROVED = audit.register_kind("purchasing.order_approved", "Order approved")

`record` refuses a kind nobody declared, so a typo cannot pass silently; the back office shows the
labels. The kinds recorded before this registry keep their stored, un-namespaced values
(`STORED_KINDS`) so old rows still read with labels, but nothing records them any more: the kind that
replaced one names it (`register_kind(..., formerly="sign_in")`), so a search for the new kind finds
the old rows of the same meaning too (`kinds_meaning`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpRequest

from common.bulk import insert_rows
from common.clients import client_address
from common.models import AuditEvent

# "app.kind": lower-case words with underscores, one dot.
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

# Kinds recorded before the registry, at the values already stored (AuditEvent.Kind). Read-only:
# labels for old rows; `record` refuses them.
STORED_KINDS: dict[str, str] = {
    AuditEvent.Kind.SIGN_IN: "Signed in",
    AuditEvent.Kind.SIGN_IN_FAILED: "Failed sign-in",
    AuditEvent.Kind.SIGN_OUT: "Signed out",
    AuditEvent.Kind.LOCKED_OUT: "Locked out",
    AuditEvent.Kind.ACCESS_DENIED: "Access denied",
    AuditEvent.Kind.PASSWORD_RESET: "Password reset",
    AuditEvent.Kind.MEMBERSHIP_CHANGED: "Membership changed",
    AuditEvent.Kind.OFFER_MODERATED: "Offer moderated",
    AuditEvent.Kind.FILE_IMPORTED: "File imported",
    AuditEvent.Kind.APPROVAL: "Approval",
    AuditEvent.Kind.TRANSFER: "Money transfer",
}

_kinds: dict[str, str] = dict(STORED_KINDS)
# new kind -> the stored, un-namespaced kind it replaced
_formerly: dict[str, str] = {}


def register_kind(kind: str, label: str, *, formerly: str = "") -> str:
    """Declare a kind of event ("app.kind") with the label people read; returns the kind.

    `formerly` names the stored kind (a key of STORED_KINDS) this one replaces, so searches for it find
    the old rows too. Declaring the same kind again with the same label is harmless (modules may be
    imported twice); with another label it is a clash between apps and raises ValueError."""
    if not KIND_PATTERN.match(kind) or len(kind) > AuditEvent._meta.get_field("kind").max_length:
        raise ValueError(
            f"An audit kind is 'app.kind' in lower case, e.g. 'purchasing.order_approved' (80 at most): "
            f"{kind!r}"
        )
    if not label.strip():
        raise ValueError(f"The audit kind {kind!r} needs a label.")
    if _kinds.get(kind, label) != label:
        raise ValueError(f"The audit kind {kind!r} is already declared as {_kinds[kind]!r}.")
    if formerly:
        if formerly not in STORED_KINDS:
            raise ValueError(f"{formerly!r} is not a kind stored before the registry (STORED_KINDS).")
        successor = next((new for new, old in _formerly.items() if old == formerly and new != kind), None)
        if successor:
            raise ValueError(f"The stored kind {formerly!r} is already replaced by {successor!r}.")
        _formerly[kind] = formerly
    _kinds[kind] = label
    return kind


def is_registered(kind: str) -> bool:
    return kind in _kinds


def is_recordable(kind: str) -> bool:
    """Declared by an app: the stored, un-namespaced kinds are only read, never recorded again."""
    return kind in _kinds and kind not in STORED_KINDS


def kinds_meaning(kind: str) -> list[str]:
    """The stored values that mean `kind`: itself and the un-namespaced kind it replaced, if any."""
    return [kind, _formerly[kind]] if kind in _formerly else [kind]


def kind_label(kind: str) -> str:
    """The label of a kind; an undeclared one (say, from an app since removed) reads as itself."""
    return _kinds.get(kind, kind)


def registered_kinds() -> dict[str, str]:
    """Every declared kind and its label, sorted by label (for documentation)."""
    return dict(sorted(_kinds.items(), key=lambda item: item[1].lower()))


def filter_kinds() -> dict[str, str]:
    """The kinds to choose from when searching the log: every declared kind, and the stored ones that
    no kind replaced (a replaced one is found through its successor, `kinds_meaning`)."""
    replaced = set(_formerly.values())
    return {kind: label for kind, label in registered_kinds().items() if kind not in replaced}


# The kinds the shared kernel records itself.
ACCESS_DENIED = register_kind("common.access_denied", "Access denied", formerly="access_denied")


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
    """Append one event of a declared `kind`. `actor` is a user or None (anonymous, system)."""
    if kind not in _kinds:
        raise ValueError(f"Undeclared audit kind {kind!r}: declare it with common.audit.register_kind.")
    if kind in STORED_KINDS:
        raise ValueError(f"{kind!r} is a stored kind kept for reading old rows; record a namespaced kind.")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    identifier = actor_identifier or (actor.get_username() if actor is not None else "")
    if request is not None and kind == ACCESS_DENIED:
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


def record_many(*, entries: Sequence[Mapping[str, Any]], kind: str = "") -> list[int]:
    """Append many events at once (a round's close submits and sends hundreds of orders): rows
    written by `common.bulk.insert_rows` (COPY on PostgreSQL), no instances; answers their ids.
    Each entry holds `actor`, `organisation_id`, `subject` and `data`, as `record`, and its `kind`
    unless all share `kind`; every kind is a declared one."""
    rows = []
    names: dict[int, str] = {}
    for entry in entries:
        this = entry.get("kind") or kind
        if this not in _kinds:
            raise ValueError(f"Undeclared audit kind {this!r}: declare it with common.audit.register_kind.")
        if this in STORED_KINDS:
            raise ValueError(
                f"{this!r} is a stored kind kept for reading old rows; record a namespaced kind."
            )
        actor = entry.get("actor")
        if actor is not None and not getattr(actor, "is_authenticated", False):
            actor = None
        if actor is None:
            actor_id, identifier = None, ""
        else:
            actor_id = actor.pk
            identifier = names.get(actor_id)
            if identifier is None:
                identifier = names[actor_id] = actor.get_username()[:254]
        rows.append(
            (
                this,
                actor_id,
                identifier,
                entry.get("organisation_id"),
                (entry.get("subject") or "")[:200],
                entry.get("data") or {},
            )
        )
    return insert_rows(
        AuditEvent, ("kind", "actor_id", "actor_identifier", "organisation_id", "subject", "data"), rows
    )


def record_denied_access(request: HttpRequest, *, status: int) -> AuditEvent | None:
    """One `common.access_denied` event for a refused request, unless its view recorded one already."""
    if getattr(request, "_access_denial_recorded", False):
        return None
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    return record(
        kind=ACCESS_DENIED,
        actor=user,
        subject=f"{request.method} {request.path}"[:200],
        request=request,
        data={
            "status": status,
            "via": signed_in_by(request),
            "route": match.view_name if match else "",
        },
    )
