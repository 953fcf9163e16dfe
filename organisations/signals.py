"""Authentication events appended to the audit log, and the acting cache dropped when people or
memberships change (connected in OrganisationsConfig.ready).

Audit is a side effect of Django's and django-axes' own signals, so every way of signing in
(the sign-in page, the API token endpoint, the CMS login) is recorded the same way.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from common import audit
from organisations.acting import people_changed
from organisations.models import (
    CarerLink,
    Commissioner,
    Membership,
    Organisation,
    PatientProfile,
    Supplier,
    Trust,
    User,
)
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


# What `organisations.acting` keeps for each user in the shared cache (memberships with their
# organisations, the patients they may act for, with those patients' users and commissioners) is
# dropped on the commit of any save or delete of these (proxies send their own signals).
_ACTING_INPUTS = (User, Organisation, Trust, Commissioner, Supplier, Membership, PatientProfile, CarerLink)


def _acting_inputs_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Signing in saves only `last_login`, which nothing kept shows.
    if sender is User and set(kwargs.get("update_fields") or ()) == {"last_login"}:
        return
    people_changed()


for _model in _ACTING_INPUTS:
    post_save.connect(
        _acting_inputs_changed, sender=_model, dispatch_uid=f"acting_inputs_saved_{_model.__name__}"
    )
    post_delete.connect(
        _acting_inputs_changed, sender=_model, dispatch_uid=f"acting_inputs_deleted_{_model.__name__}"
    )
