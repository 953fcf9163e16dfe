"""Hooks for django-axes (named in settings)."""

from __future__ import annotations

from typing import Any


def axes_username(request: Any, credentials: dict | None) -> str:
    """The email address that failed, lower-cased: Beth@x and beth@x are one account to lock."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("username") or data.get("email") or ""
    return str(value).strip().lower()
