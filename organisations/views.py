from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from common import audit
from common.errors import NotFound
from common.models import AuditEvent
from organisations import selectors
from organisations.models import Role
from organisations.permissions import roles_for


def _organisation_or_404(request: HttpRequest, pk: int):
    try:
        return selectors.organisation_for_member(user=request.user, organisation_id=pk)
    except NotFound:
        audit.record(
            kind=AuditEvent.Kind.ACCESS_DENIED,
            actor=request.user,
            subject=f"organisation:{pk}",
            request=request,
        )
        raise Http404("No such organisation.") from None


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation_or_404(request, pk)
    return render(
        request,
        "organisations/organisation_detail.html",
        {
            "organisation": organisation,
            "roles": roles_for(request.user, organisation),
        },
    )


@login_required
def membership_list(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation_or_404(request, pk)
    admin_roles = {Role.TRUST_ADMIN, Role.SUPPLIER_ADMIN, Role.BUDGET_MANAGER}
    if not roles_for(request.user, organisation) & admin_roles:
        audit.record(
            kind=AuditEvent.Kind.ACCESS_DENIED, actor=request.user, subject=f"members:{pk}", request=request
        )
        raise Http404("No such organisation.")
    return render(
        request,
        "organisations/membership_list.html",
        {
            "organisation": organisation,
            "memberships": selectors.members_of(organisation=organisation),
        },
    )
