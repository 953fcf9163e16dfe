from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace.health import run_checks
from marketplace.start import start_page_for


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    ok, checks = run_checks()
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


# What each machine check means to a person reading the status page.
STATUS_PART_NAMES = {
    "database": "Catalogue and orders database",
    "cache": "Sessions and page cache",
    "celery": "Background work (uploads, reports, search updates)",
    "search": "Search",
}


@never_cache
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """The human page behind the footer's "Service status": which parts work, no internals.

    /healthz is for load balancers and monitoring; its error strings name hosts and ports, so
    people get only whether each part is working.
    """
    ok, checks = run_checks()
    parts = [{"name": STATUS_PART_NAMES.get(key, key), "ok": check["ok"]} for key, check in checks.items()]
    return render(
        request, "marketplace/status.html", {"all_ok": ok, "parts": parts}, status=200 if ok else 503
    )


@login_required
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/start.html", {"start": start_page_for(request.user)})


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page in NHS.UK style, rendered without the request's context processors: no
    session, user or database is read, since any of them may be what failed."""
    html = loader.render_to_string("500.html", {"SITE_NAME": settings.WAGTAIL_SITE_NAME})
    return HttpResponseServerError(html)
