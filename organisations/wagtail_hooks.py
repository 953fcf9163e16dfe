"""The back office for organisations, memberships and patients, in the Wagtail admin at /cms/."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import CreateView, DeleteView, EditView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from common import audit
from common.errors import DomainError
from common.models import AuditEvent
from organisations import services
from organisations.models import (
    CarerLink,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    PatientProfile,
    RegistrationStatus,
    SupplierRegistration,
)


class OrganisationEditView(EditView):
    """Edits an organisation; a supplier's "active" box goes through `supplier_deactivate` (a reason is
    required) or `supplier_reactivate`, so the change is checked and audited like any other."""

    def form_valid(self, form):
        self.form = form
        stored = Organisation.objects.get(pk=self.object.pk)
        wanted = form.cleaned_data.get("is_active", stored.is_active)
        changes_activation = stored.kind == OrganisationKind.SUPPLIER and wanted != stored.is_active
        try:
            with transaction.atomic():
                if changes_activation:
                    form.instance.is_active = stored.is_active  # the service below makes the change
                self.object = self.save_instance()
                if changes_activation and wanted:
                    services.supplier_reactivate(supplier=self.object, actor=self.request.user)
                elif changes_activation:
                    services.supplier_deactivate(
                        supplier=self.object,
                        actor=self.request.user,
                        reason=form.cleaned_data.get("deactivation_reason", ""),
                    )
        except DomainError as error:
            field = {"reason": "deactivation_reason", "supplier": "is_active"}.get(error.field, error.field)
            form.add_error(field if field in form.fields else None, error.message)
            self.produced_error_message = error.message
            return self.form_invalid(form)
        self.object.refresh_from_db()
        response = self.save_action()
        return self.run_after_hook() or response


class OrganisationViewSet(ModelViewSet):
    model = Organisation
    edit_view_class = OrganisationEditView
    icon = "group"
    menu_label = "Organisations"
    list_display = ["name", "kind", "ods_code", "region", "is_active"]
    list_filter = ["kind", "region", "is_active", "is_trusted_supplier"]
    search_fields = ["name", "ods_code", "legal_name", "companies_house_number"]
    search_backend_name = None  # plain database lookups: ODS codes are not words
    form_fields = [
        "kind",
        "name",
        "slug",
        "ods_code",
        "region",
        "legal_name",
        "companies_house_number",
        "vat_number",
        "is_trusted_supplier",
        "share_prices_by_name",
        "is_active",
    ]
    copy_view_enabled = False

    def get_form_class(self, for_update: bool = False):
        form_class = super().get_form_class(for_update)
        if not for_update:
            return form_class
        reason = forms.CharField(
            label="Reason for deactivating",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Required when you untick Active for a supplier; kept in the audit log.",
        )
        return type("OrganisationEditForm", (form_class,), {"deactivation_reason": reason})


class MembershipCreateView(CreateView):
    def save_instance(self) -> Membership:
        # Through the service: the role must fit the organisation, and the change is audited.
        instance = self.form.instance
        return services.membership_create(
            user=instance.user,
            organisation=instance.organisation,
            role=instance.role,
            actor=self.request.user,
        )


class MembershipEditView(EditView):
    def save_instance(self) -> Membership:
        submitted = self.form.instance
        stored = Membership.objects.select_related("user", "organisation").get(pk=submitted.pk)
        if (stored.user_id, stored.organisation_id) == (submitted.user_id, submitted.organisation_id):
            return services.membership_change_role(
                membership=stored, role=submitted.role, actor=self.request.user
            )
        # Another person or organisation: that is a different membership.
        services.membership_delete(membership=stored, actor=self.request.user)
        return services.membership_create(
            user=submitted.user,
            organisation=submitted.organisation,
            role=submitted.role,
            actor=self.request.user,
        )


class MembershipDeleteView(DeleteView):
    def delete_action(self) -> None:
        services.membership_delete(membership=self.object, actor=self.request.user)


class MembershipViewSet(ModelViewSet):
    model = Membership
    icon = "user"
    menu_label = "Memberships"
    add_view_class = MembershipCreateView
    edit_view_class = MembershipEditView
    delete_view_class = MembershipDeleteView
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation__kind", "organisation__region"]
    search_fields = ["user__email", "user__full_name", "organisation__name", "organisation__ods_code"]
    search_backend_name = None
    form_fields = ["user", "organisation", "role"]
    copy_view_enabled = False


class PatientProfileViewSet(ModelViewSet):
    model = PatientProfile
    icon = "user"
    menu_label = "Patients"
    list_display = ["user", "nhs_number", "date_of_birth", "commissioner"]
    list_filter = ["commissioner"]
    search_fields = ["user__email", "user__full_name", "nhs_number"]
    search_backend_name = None
    form_fields = ["user", "nhs_number", "date_of_birth", "commissioner", "care_coordinator"]
    copy_view_enabled = False


class CarerLinkCreateView(CreateView):
    """Link a carer to a patient through the service (checked, audited)."""

    def form_valid(self, form):
        self.form = form
        try:
            self.object = services.carer_link_create(
                patient=form.cleaned_data["patient"],
                carer=form.cleaned_data["carer"],
                actor=self.request.user,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            self.produced_error_message = error.message
            return self.form_invalid(form)
        return self.save_action()


class CarerLinkDeleteView(DeleteView):
    def delete_action(self) -> None:
        services.carer_link_delete(link=self.object, actor=self.request.user)


class CarerLinkViewSet(ModelViewSet):
    model = CarerLink
    icon = "user"
    menu_label = "Carers"
    add_view_class = CarerLinkCreateView
    delete_view_class = CarerLinkDeleteView
    list_display = ["carer", "patient", "created_at"]
    search_fields = ["carer__email", "carer__full_name", "patient__user__full_name"]
    search_backend_name = None
    form_fields = ["patient", "carer"]
    copy_view_enabled = False


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Rows the back office may read and never add or delete (the audit log: never change either)."""

    actions: tuple[str, ...] = ("view",)

    def user_has_permission(self, user, action):
        return action in self.actions and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions)


class AuditEventFilterSet(WagtailFilterSet):
    # The kinds are declared by the apps at run time (common.audit.register_kind), not a field's choices;
    # a kind finds the rows stored under the un-namespaced kind it replaced as well.
    kind = django_filters.ChoiceFilter(
        choices=lambda: list(audit.filter_kinds().items()), label="Kind", method="filter_kind"
    )

    class Meta:
        model = AuditEvent
        fields = ["kind"]

    def filter_kind(self, queryset, name, value):
        return queryset.filter(kind__in=audit.kinds_meaning(value)) if value else queryset


class AuditEventViewSet(ModelViewSet):
    model = AuditEvent
    icon = "history"
    menu_label = "Audit log"
    list_display = [
        "occurred_at",
        Column("kind_label", label="Kind"),
        Column("actor_identifier", label="Who"),
        "subject",
        "organisation_id",
    ]
    filterset_class = AuditEventFilterSet
    search_fields = ["actor_identifier", "subject"]
    search_backend_name = None
    form_fields = ["kind", "actor_identifier", "subject"]
    copy_view_enabled = False
    inspect_view_enabled = True


class RegistrationReviewView(EditView):
    """Approve or reject a pending registration, through the services (audited, emailed)."""

    def form_valid(self, form):
        stored = SupplierRegistration.objects.select_related("organisation").get(pk=self.object.pk)
        decision, note = form.cleaned_data["status"], form.cleaned_data.get("decision_note", "")
        try:
            if decision == RegistrationStatus.APPROVED and stored.status != decision:
                services.supplier_registration_approve(
                    registration=stored,
                    actor=self.request.user,
                    site_url=self.request.build_absolute_uri("/"),
                    note=note,
                )
            elif decision == RegistrationStatus.REJECTED and stored.status != decision:
                services.supplier_registration_reject(registration=stored, actor=self.request.user, note=note)
            elif decision != stored.status:
                raise DomainError("A decided registration cannot go back to waiting.", field="status")
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            self.produced_error_message = error.message
            return self.form_invalid(form)
        self.object = SupplierRegistration.objects.get(pk=stored.pk)
        messages.success(self.request, f"{self.object}: decision saved.")
        return redirect(self.get_success_url())


class SupplierRegistrationViewSet(ModelViewSet):
    model = SupplierRegistration
    icon = "clipboard-list"
    menu_label = "Supplier registrations"
    edit_view_class = RegistrationReviewView
    list_display = [
        Column("organisation", label="Company"),
        "contact_name",
        "contact_email",
        "status",
        "submitted_at",
    ]
    list_filter = ["status"]
    search_fields = ["organisation__legal_name", "organisation__companies_house_number", "contact_email"]
    search_backend_name = None
    form_fields = ["status", "decision_note"]
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "organisation",
        "contact_name",
        "contact_email",
        "categories",
        "status",
        "submitted_at",
    ]


class InvitationViewSet(ModelViewSet):
    model = Invitation
    icon = "mail"
    menu_label = "Invitations"
    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["email", "organisation__name"]
    search_backend_name = None
    form_fields = ["email"]
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "organisation",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
    ]


class OrganisationsGroup(ModelViewSetGroup):
    menu_label = "Organisations"
    menu_icon = "group"
    menu_order = 200
    # Own URL namespaces: "organisations" is the sign-in app's.
    items = (
        OrganisationViewSet("organisation_admin", url_prefix="organisations"),
        MembershipViewSet("membership_admin", url_prefix="memberships"),
        PatientProfileViewSet("patient_admin", url_prefix="patients"),
        CarerLinkViewSet("carer_admin", url_prefix="carers"),
        SupplierRegistrationViewSet("registration_admin", url_prefix="supplier-registrations"),
        InvitationViewSet("invitation_admin", url_prefix="invitations"),
        AuditEventViewSet("audit_admin", url_prefix="audit"),
    )


class ReviewPermissionPolicy(ReadOnlyPermissionPolicy):
    actions = ("view", "change")


class LinkPermissionPolicy(ReadOnlyPermissionPolicy):
    actions = ("view", "add", "delete")


register_permission_policy(AuditEvent, ReadOnlyPermissionPolicy(AuditEvent))
register_permission_policy(Invitation, ReadOnlyPermissionPolicy(Invitation))
# Suppliers register themselves on the public page; the back office only decides.
register_permission_policy(SupplierRegistration, ReviewPermissionPolicy(SupplierRegistration))
# A carer link is made or ended (through the services), never edited into another one.
register_permission_policy(CarerLink, LinkPermissionPolicy(CarerLink))


@hooks.register("register_admin_viewset")
def register_organisations_viewsets() -> ModelViewSetGroup:
    return OrganisationsGroup()
