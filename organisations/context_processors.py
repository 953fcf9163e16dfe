"""Template context: the header's switcher, for people who act for several organisations or for
patients (carers, care coordinators)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from organisations import acting


def _switcher(request: HttpRequest) -> dict | None:
    organisations = acting.choices(request)
    user = getattr(request, "user", None)
    # Patients other than the user: those a carer or care coordinator may act for.
    others = [p for p in acting.patients(request) if p.user_id != getattr(user, "pk", None)]
    if len(organisations) < 2 and not others:
        return None
    try:
        current = acting.current(request)
        current_patient = acting.chosen_patient(request) if others else None
    except acting.ActingRefused:
        current, current_patient = None, None
    return {
        "choices": organisations if len(organisations) > 1 else [],
        "current": current,
        "patients": others,
        "current_patient": current_patient,
    }


def acting_switcher(request: HttpRequest) -> dict:
    """`acting_switcher`: empty for one organisation (or none) and no patients, else the choices and
    the current one, and the patients the user may act for and the chosen one.
    Lazy: pages that do not show the header cost no query."""
    return {"acting_switcher": SimpleLazyObject(lambda: _switcher(request) or {})}
