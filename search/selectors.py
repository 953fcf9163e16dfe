"""Read-only entry points of the search app."""

from __future__ import annotations

from django.conf import settings


def backend_health() -> dict:
    """The configured search backend's state, for /healthz. Raises if the engine is unreachable."""
    return {"backend": settings.SEARCH_BACKEND}
