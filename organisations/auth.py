"""Hooks for django-axes (named in settings)."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


def axes_username(request: Any, credentials: dict | None) -> str:
    """The email address that failed, lower-cased: Beth@x and beth@x are one account to lock."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("username") or data.get("email") or ""
    return str(value).strip().lower()


class AccountAtAddressHandler(AxesDatabaseHandler):
    """Lock an account at one address after `AXES_FAILURE_LIMIT` failures, and an address on its own
    only after `SIGN_IN_ADDRESS_FAILURE_LIMIT` failures across accounts. Locking by address alone at
    five would lock out a whole trust behind one NAT (or the whole site behind a load balancer)
    because of one person's typos; locking by account alone would let anyone lock a colleague out.

    The lockout parameters in settings are `[["username", "ip_address"], "ip_address"]`, so axes
    hands us the attempts for the pair first and for the address second.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        account_at_address, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
            return max(account_at_address, settings.AXES_FAILURE_LIMIT)
        return account_at_address
