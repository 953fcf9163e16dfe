from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common import audit
from common.errors import NotFound
from common.models import AuditEvent
from organisations import acting, selectors
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


# Roles that may see who else acts for their organisation.
MEMBER_ADMIN_ROLES = {Role.TRUST_ADMIN, Role.SUPPLIER_ADMIN, Role.BUDGET_MANAGER}


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation_or_404(request, pk)
    roles = roles_for(request.user, organisation)
    return render(
        request,
        "organisations/organisation_detail.html",
        {
            "organisation": organisation,
            "role_labels": sorted(Role(role).label for role in roles),
            "can_see_members": bool(roles & MEMBER_ADMIN_ROLES),
        },
    )


@login_required
def membership_list(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation_or_404(request, pk)
    if not roles_for(request.user, organisation) & MEMBER_ADMIN_ROLES:
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


@login_required
@require_POST
def acting_switch(request: HttpRequest) -> HttpResponse:
    """The header's switcher: act for another of the user's organisations from now on (session),
    then back to the page they were on."""
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = 0
    if acting.acting_choose(request, organisation_id=organisation_id) is None:
        audit.record(
            kind=AuditEvent.Kind.ACCESS_DENIED,
            actor=request.user,
            subject=f"organisation:{organisation_id}",
            request=request,
        )
        raise Http404("No such organisation.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "start"
    return redirect(target)


class AuditedPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from an emailed link is a security event: it goes to the audit log."""

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            kind=AuditEvent.Kind.PASSWORD_RESET, actor=form.user, subject="password", request=self.request
        )
        return response
