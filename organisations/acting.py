"""The organisation a request acts for: one notion for every page, API view and service.

A person who acts for one organisation acts for it. A person with several memberships chooses
with the switcher in the header (`views.acting_switch`, remembered in the session); systems on the
API send the `X-Acting-Organisation` header (an ODS code, a supplier's slug or an organisation's
id), which must name an organisation the caller is a member of, or the request is refused (403,
naming the header). Until a person chooses, pages act for the first of their organisations by name
(the switcher shows which), but an API write that needs an organisation is refused (400, naming the
header) rather than guessed.

Views call `acting_for(request)` (or `acting_for(request, kind=...)` when only one kind of
organisation makes sense, e.g. the supplier portal) and pass the `Acting` value, or what it
names, to services as an explicit keyword argument. `organisations.scoping.scoped` narrows a
queryset to it in one line.

A patient acts for themselves (`Acting.patient`). A care coordinator (for the patients they
coordinate) or a carer (`CarerLink`) acts for a patient they choose: in the header's switcher
(remembered in the session) or, on the API, with the `X-Acting-Patient` header (the patient's NHS
number), which must name a patient they may act for (`permissions.patients_for`) or the request is
refused (403, naming the header). Until they choose, they act for no patient (list prices).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework.permissions import IsAuthenticated

from common.caching import request_forget, request_memo, shared_cached, shared_changed
from common.errors import DomainError, PermissionDenied
from organisations.models import Membership, Organisation, OrganisationKind, PatientProfile
from organisations.permissions import patients_for

HEADER = "X-Acting-Organisation"
PATIENT_HEADER = "X-Acting-Patient"
SESSION_KEY = "acting_organisation_id"
PATIENT_SESSION_KEY = "acting_patient_id"
# Lookups memoised for the request (common.caching.request_memo).
_RESOLVED = "acting.resolved"
_INPUTS = "acting.inputs"
# The shared cache's namespace of each user's memberships and patients (`_inputs`): its version moves
# on the commit of every save or delete of a user, organisation, membership, patient or carer link
# (organisations.signals), so no one acts on a membership that has ended.
NAMESPACE = "organisations"


def people_changed() -> None:
    """Someone's memberships, organisations or patients changed: every user's kept inputs go."""
    shared_changed(NAMESPACE)


class ActingRefused(PermissionDenied):
    """The header names an organisation the caller does not act for (or none at all)."""

    code = "acting_organisation_refused"


class ActingUnchosen(DomainError):
    """The caller acts for several organisations and did not say which one this request is for."""

    code = "acting_organisation_required"


@dataclass(frozen=True)
class Acting:
    """Who a request acts for. `organisation` is None when the user acts for none (of the kind asked)."""

    organisation: Organisation | None = None
    roles: frozenset[str] = frozenset()
    patient: PatientProfile | None = None
    # Chosen (header or switcher) or the user's only organisation of the kind; False for the
    # first-by-name default of someone with several who has not chosen yet.
    explicit: bool = False
    # The kind asked for (None: any), for messages.
    kind: str | None = None

    @property
    def trust(self) -> Organisation | None:
        return self.organisation if self.organisation is not None and self.organisation.is_trust else None

    @property
    def supplier(self) -> Organisation | None:
        organisation = self.organisation
        return organisation if organisation is not None and organisation.is_supplier else None

    @property
    def buyer(self) -> PatientProfile | Organisation | None:
        """Whom the pricing strategy prices for: the patient acted for, else the acting trust, else
        nobody in particular (list prices)."""
        return self.patient or self.trust

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def require(self) -> Organisation:
        """The organisation, when the request must be for exactly one: never a guess.

        ActingUnchosen (400) if the user has several and chose none; PermissionDenied (403) if they
        act for none (of the kind asked)."""
        if self.organisation is None:
            raise PermissionDenied(
                f"You do not act for {_A_KIND.get(self.kind, 'an organisation')}.", field=HEADER
            )
        if not self.explicit:
            raise ActingUnchosen(
                f"You act for several organisations: send the {HEADER} header (an ODS code, a "
                "supplier's slug or an organisation's id) to say which one.",
                field=HEADER,
            )
        return self.organisation


_A_KIND = {
    OrganisationKind.TRUST: "an NHS trust",
    OrganisationKind.SUPPLIER: "a supplier",
    OrganisationKind.COMMISSIONER: "a commissioner",
}


def _base(request) -> HttpRequest:
    """The Django request under a DRF one (caches live there, so both see them)."""
    return getattr(request, "_request", request)


def _inputs(request) -> tuple[list[Membership], list[PatientProfile]]:
    """The user's memberships and the patients they may act for: once per request, from the shared
    cache under the user's id (what only that user is shown, never served to anyone else), else two
    queries."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return [], []

    def load() -> tuple[list[Membership], list[PatientProfile]]:
        return (
            list(
                Membership.objects.filter(user=user, organisation__is_active=True)
                .select_related("organisation")
                .order_by("organisation__name", "organisation_id", "role")
            ),
            list(patients_for(user).select_related("user", "commissioner").order_by("user__full_name", "pk")),
        )

    return request_memo(
        request, (_INPUTS, user.pk), lambda: shared_cached(NAMESPACE, ("acting-inputs", user.pk), load)
    )


def memberships(request) -> list[Membership]:
    """The user's memberships of active organisations, with the organisation, by organisation name:
    shared by the switcher and `acting_for`."""
    return _inputs(request)[0]


def patients(request) -> list[PatientProfile]:
    """The patients the user may act for (themselves included, if a patient), by name: shared by the
    switcher and `acting_for`."""
    return _inputs(request)[1]


def chosen_patient(request) -> PatientProfile | None:
    """The patient the request names (header: an NHS number) or the user chose (session). A header
    naming a patient the user may not act for is refused, without repeating the number."""
    header = request.headers.get(PATIENT_HEADER)
    if header is not None:
        number = "".join(header.split())
        found = next((p for p in patients(request) if p.nhs_number == number), None)
        if found is None:
            raise ActingRefused(
                f"The {PATIENT_HEADER} header names no patient you may act for.", field=PATIENT_HEADER
            )
        return found
    session = getattr(_base(request), "session", None)
    if session is not None and PATIENT_SESSION_KEY in session:
        return next((p for p in patients(request) if p.pk == session[PATIENT_SESSION_KEY]), None)
    return None


def choices(request) -> list[Organisation]:
    """The organisations the user may act for, by name, each once."""
    seen: dict[int, Organisation] = {}
    for membership in memberships(request):
        seen.setdefault(membership.organisation_id, membership.organisation)
    return list(seen.values())


def _matches(organisation: Organisation, value: str) -> bool:
    value = value.strip()
    return bool(value) and (
        (organisation.ods_code or "").upper() == value.upper()
        or organisation.slug == value.lower()
        or str(organisation.pk) == value
    )


def chosen(request) -> tuple[Organisation | None, bool]:
    """The organisation the request names (header) or the user chose (session), and whether one was
    named at all. A header naming an organisation the user does not act for is refused."""
    header = request.headers.get(HEADER)
    if header is not None:
        found = next((o for o in choices(request) if _matches(o, header)), None)
        if found is None:
            raise ActingRefused(
                f"The {HEADER} header names an organisation you do not act for: {header[:40]!r}.",
                field=HEADER,
            )
        return found, True
    session = getattr(_base(request), "session", None)
    if session is not None and SESSION_KEY in session:
        found = next((o for o in choices(request) if o.pk == session[SESSION_KEY]), None)
        if found is not None:
            return found, True
    return None, False


def current(request) -> Organisation | None:
    """The organisation the header switcher shows as acting: the chosen one, else the first."""
    organisation, named = chosen(request)
    if named:
        return organisation
    organisations = choices(request)
    return organisations[0] if organisations else None


def acting_for(request, *, kind: str | None = None) -> Acting:
    """Who this request acts for (see the module's docstring); `kind` keeps to one kind of
    organisation (an organisation chosen of another kind then gives `organisation=None`)."""
    user = getattr(request, "user", None)
    return request_memo(
        request, (_RESOLVED, getattr(user, "pk", None), kind), lambda: _resolve(request, kind)
    )


def _resolve(request, kind: str | None) -> Acting:
    user = getattr(request, "user", None)
    organisation, explicit = chosen(request)
    if explicit:
        if kind is not None and organisation.kind != kind:
            organisation = None
    else:
        candidates = [o for o in choices(request) if kind is None or o.kind == kind]
        organisation = candidates[0] if candidates else None
        explicit = len(candidates) == 1
    roles = frozenset(
        m.role
        for m in memberships(request)
        if organisation is not None and m.organisation_id == organisation.pk
    )
    patient = None
    if kind in (None, OrganisationKind.TRUST) and user is not None and user.is_authenticated:
        # The patient chosen, else the user themselves if they are one.
        patient = chosen_patient(request) or next(
            (p for p in patients(request) if p.user_id == user.pk), None
        )
    return Acting(organisation=organisation, roles=roles, patient=patient, explicit=explicit, kind=kind)


def acting_choose(request, *, organisation_id: int) -> Organisation | None:
    """Remember the user's choice in the session; None (and nothing remembered) if they do not act
    for that organisation."""
    found = next((o for o in choices(request) if o.pk == organisation_id), None)
    if found is not None:
        base = _base(request)
        base.session[SESSION_KEY] = found.pk
        request_forget(request, _RESOLVED)
    return found


def acting_choose_patient(request, *, patient_id: int | None) -> bool:
    """Remember the patient the user acts for from now on (None: no one in particular). False, and
    nothing remembered, if they may not act for that patient."""
    base = _base(request)
    if patient_id is None:
        base.session.pop(PATIENT_SESSION_KEY, None)
    else:
        found = next((p for p in patients(request) if p.pk == patient_id), None)
        if found is None:
            return False
        base.session[PATIENT_SESSION_KEY] = found.pk
    request_forget(request, _RESOLVED)
    return True


class ActsForWhomItSays(IsAuthenticated):
    """The API's default permission: signed in, and the `X-Acting-Organisation` and `X-Acting-Patient`
    headers, when sent, name one of the caller's organisations and a patient they may act for (403
    naming the header otherwise), on every operation."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        chosen(request)
        chosen_patient(request)
        return True
