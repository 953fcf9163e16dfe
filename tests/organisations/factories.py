from __future__ import annotations

import datetime as dt

import factory

from organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    PatientProfile,
    Region,
    Role,
    User,
)
from tests.conftest import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.nhs.uk")
    full_name = factory.Faker("name", locale="en_GB")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.TRUST
    name = factory.Sequence(lambda n: f"Example Hospitals NHS Foundation Trust {n}")
    slug = factory.Sequence(lambda n: f"trust-{n}")
    ods_code = factory.Sequence(lambda n: f"T{n:04d}")
    region = Region.LONDON


class CommissionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.COMMISSIONER
    name = factory.Sequence(lambda n: f"NHS Example Integrated Care Board {n}")
    slug = factory.Sequence(lambda n: f"icb-{n}")
    ods_code = factory.Sequence(lambda n: f"Q{n:03d}")
    region = Region.NORTH_WEST


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.SUPPLIER
    name = factory.Sequence(lambda n: f"Example Medical Supplies {n}")
    slug = factory.Sequence(lambda n: f"supplier-{n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} Ltd")
    companies_house_number = factory.Sequence(lambda n: f"{n:08d}")
    vat_number = factory.Sequence(lambda n: f"GB{n:09d}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(TrustFactory)
    role = Role.BUYER


def member(role: str, organisation: Organisation | None = None, **user_kwargs) -> User:
    """A user holding `role` at `organisation` (a new one of the right kind if not given)."""
    if organisation is None:
        kind_factory = {
            Role.BUYER: TrustFactory,
            Role.APPROVER: TrustFactory,
            Role.TRUST_ADMIN: TrustFactory,
            Role.SUPPLIER_ADMIN: SupplierFactory,
            Role.SUPPLIER_STAFF: SupplierFactory,
            Role.BUDGET_MANAGER: CommissionerFactory,
            Role.CARE_COORDINATOR: CommissionerFactory,
        }[role]
        organisation = kind_factory()
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


class PatientProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory)
    nhs_number = factory.Sequence(lambda n: _valid_nhs_number(n))
    date_of_birth = dt.date(1970, 1, 1)
    commissioner = factory.SubFactory(CommissionerFactory)


def _valid_nhs_number(n: int) -> str:
    """The n-th valid NHS number in the synthetic test range 999 000 0000 onwards."""
    candidate = 999_000_000 + n * 7
    while True:
        digits = f"{candidate:09d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return digits + str(check)
        candidate += 1
