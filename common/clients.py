"""Where a request comes from: one answer for the audit log, sign-in lockout and API throttles."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address. `X-Forwarded-For` is believed only as far as the deployment says it has
    proxies (`NUM_PROXIES`): with none, anyone could forge it to dodge a lockout or a throttle. The
    rule is DRF's own `get_ident`, so throttles and lockouts agree on who a client is."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return hops[-min(proxies, len(hops))]
