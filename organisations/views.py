from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common import audit
from common.errors import DomainError, NotFound
from organisations import acting, selectors, services
from organisations.forms import AcceptInvitationForm, InvitationForm, SupplierRegistrationForm
from organisations.models import Role, User
from organisations.permissions import roles_for


def _organisation_or_404(request: HttpRequest, pk: int):
    try:
        return selectors.organisation_for_member(user=request.user, organisation_id=pk)
    except NotFound:
        audit.record(
            kind=audit.ACCESS_DENIED,
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
            "can_invite": bool(services.invitable_roles(user=request.user, organisation=organisation)),
        },
    )


@login_required
def membership_list(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation_or_404(request, pk)
    if not roles_for(request.user, organisation) & MEMBER_ADMIN_ROLES:
        audit.record(kind=audit.ACCESS_DENIED, actor=request.user, subject=f"members:{pk}", request=request)
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
    """The header's switcher: act for another of the user's organisations, or (a carer or care
    coordinator) for another patient, from now on (session), then back to the page they were on."""
    if "patient" in request.POST:
        text = request.POST["patient"].strip()
        patient_id = int(text) if text.isdigit() else (None if not text else 0)
        if not acting.acting_choose_patient(request, patient_id=patient_id):
            audit.record(
                kind=audit.ACCESS_DENIED, actor=request.user, subject=f"patient:{text[:20]}", request=request
            )
            raise Http404("No such patient.")
    else:
        try:
            organisation_id = int(request.POST.get("organisation", ""))
        except ValueError:
            organisation_id = 0
        if acting.acting_choose(request, organisation_id=organisation_id) is None:
            audit.record(
                kind=audit.ACCESS_DENIED,
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
        audit.record(kind=services.PASSWORD_RESET, actor=form.user, subject="password", request=self.request)
        return response


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _form_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def supplier_register(request: HttpRequest) -> HttpResponse:
    """The public page where a supplier registers itself for the back office to approve."""
    form = SupplierRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_register(**form.cleaned_data, request=request)
        except DomainError as error:
            _form_error(form, error)
        else:
            return redirect("organisations:supplier-register-sent")
    return render(request, "organisations/supplier_register.html", {"form": form})


def supplier_register_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "organisations/supplier_register_sent.html")


@login_required
def invitation_list(request: HttpRequest, pk: int) -> HttpResponse:
    """An organisation's admin invites people by email and sees the invitations sent."""
    organisation = _organisation_or_404(request, pk)
    roles = services.invitable_roles(user=request.user, organisation=organisation)
    if not roles:
        audit.record(
            kind=audit.ACCESS_DENIED,
            actor=request.user,
            subject=f"invitations:{pk}",
            request=request,
        )
        raise Http404("No such organisation.")
    form = InvitationForm(request.POST or None, roles=[(role, Role(role).label) for role in roles])
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_send(
                organisation=organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                site_url=_site_url(request),
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("organisations:invitation-list", pk=organisation.pk)
    return render(
        request,
        "organisations/invitation_list.html",
        {
            "organisation": organisation,
            "form": form,
            "invitations": selectors.invitations_of(organisation=organisation),
        },
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Where the emailed link leads: sign in or set a password, then accept, once."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "organisations/invitation_invalid.html", status=404)
    user = request.user if request.user.is_authenticated else None
    has_account = user is None and User.objects.filter(email__iexact=invitation.email).exists()
    form = AcceptInvitationForm(request.POST or None) if user is None and not has_account else None
    problem = ""
    if request.method == "POST" and (form is None or form.is_valid()):
        details = form.cleaned_data if form is not None else {}
        try:
            membership = services.invitation_accept(token=token, user=user, request=request, **details)
        except DomainError as error:
            if form is not None and error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                problem = error.message
        else:
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, f"You now act for {membership.organisation.name} as {membership.get_role_display()}."
            )
            return redirect("organisations:organisation-detail", pk=membership.organisation_id)
    return render(
        request,
        "organisations/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "has_account": has_account,
            "problem": problem,
            "wrong_person": user is not None and user.email.lower() != invitation.email.lower(),
        },
        status=400 if problem else 200,
    )
