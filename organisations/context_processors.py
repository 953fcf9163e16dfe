"""Template context: the header's organisation switcher, for people who act for several."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from organisations import acting


def _switcher(request: HttpRequest) -> dict | None:
    organisations = acting.choices(request)
    if len(organisations) < 2:
        return None
    try:
        current = acting.current(request)
    except acting.ActingRefused:
        current = None
    return {"choices": organisations, "current": current}


def acting_switcher(request: HttpRequest) -> dict:
    """`acting_switcher`: None for one organisation (or none), else the choices and the current one.
    Lazy: pages that do not show the header cost no query."""
    return {"acting_switcher": SimpleLazyObject(lambda: _switcher(request) or {})}
