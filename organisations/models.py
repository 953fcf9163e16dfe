"""Who may act for whom: users, organisations (trusts, commissioners, suppliers), memberships, patients."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from organisations.validators import validate_nhs_number


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        # Email addresses sign in case-insensitively.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the back office (CMS admin).")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    # Wagtail's admin shows first/last names; we keep one full name.
    @property
    def first_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else ""

    @property
    def last_name(self) -> str:
        return " ".join(self.full_name.split(" ")[1:]) if self.full_name else ""

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Region(models.TextChoices):
    """NHS England's seven regions."""

    EAST_OF_ENGLAND = "east_of_england", "East of England"
    LONDON = "london", "London"
    MIDLANDS = "midlands", "Midlands"
    NORTH_EAST_AND_YORKSHIRE = "north_east_and_yorkshire", "North East and Yorkshire"
    NORTH_WEST = "north_west", "North West"
    SOUTH_EAST = "south_east", "South East"
    SOUTH_WEST = "south_west", "South West"


class OrganisationKind(models.TextChoices):
    TRUST = "trust", "NHS trust"
    COMMISSIONER = "commissioner", "Commissioner (integrated care board)"
    SUPPLIER = "supplier", "Supplier"


class Organisation(models.Model):
    """An NHS trust, a commissioner or a supplier. One table, so every scope is one foreign key."""

    kind = models.CharField(max_length=20, choices=OrganisationKind.choices, db_index=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    ods_code = models.CharField(
        "ODS code",
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        help_text="Organisation Data Service code, e.g. RJ1 (trusts and commissioners).",
    )
    region = models.CharField(max_length=40, choices=Region.choices, blank=True)
    # Suppliers.
    legal_name = models.CharField(max_length=200, blank=True)
    companies_house_number = models.CharField(max_length=8, blank=True)
    vat_number = models.CharField("VAT number", max_length=14, blank=True)
    is_trusted_supplier = models.BooleanField(
        default=False, help_text="Trusted suppliers' offers go live without moderation."
    )
    # Trusts: whether others may see this trust's name beside its prices in analytics.
    share_prices_by_name = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organisation_kind_valid",
                condition=Q(kind__in=[k.value for k in OrganisationKind]),
            ),
            models.CheckConstraint(
                name="nhs_bodies_have_ods_code",
                condition=Q(kind="supplier") | (Q(ods_code__isnull=False) & ~Q(ods_code="")),
            ),
            models.CheckConstraint(
                name="trusts_have_region",
                condition=~Q(kind="trust") | ~Q(region=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})" if self.ods_code else self.name

    @property
    def is_trust(self) -> bool:
        return self.kind == OrganisationKind.TRUST

    @property
    def is_supplier(self) -> bool:
        return self.kind == OrganisationKind.SUPPLIER

    @property
    def is_commissioner(self) -> bool:
        return self.kind == OrganisationKind.COMMISSIONER


class KindManager(models.Manager):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def get_queryset(self):
        return super().get_queryset().filter(kind=self.kind)

    def create(self, **kwargs):
        kwargs.setdefault("kind", self.kind)
        return super().create(**kwargs)


class Trust(Organisation):
    objects = KindManager(OrganisationKind.TRUST)

    class Meta:
        proxy = True
        verbose_name = "NHS trust"

    def save(self, *args, **kwargs) -> None:
        self.kind = OrganisationKind.TRUST
        super().save(*args, **kwargs)


class Commissioner(Organisation):
    objects = KindManager(OrganisationKind.COMMISSIONER)

    class Meta:
        proxy = True
        verbose_name = "commissioner"

    def save(self, *args, **kwargs) -> None:
        self.kind = OrganisationKind.COMMISSIONER
        super().save(*args, **kwargs)


class Supplier(Organisation):
    objects = KindManager(OrganisationKind.SUPPLIER)

    class Meta:
        proxy = True
        verbose_name = "supplier"

    def save(self, *args, **kwargs) -> None:
        self.kind = OrganisationKind.SUPPLIER
        super().save(*args, **kwargs)


class Role(models.TextChoices):
    BUYER = "buyer", "Buyer"
    APPROVER = "approver", "Approver"
    TRUST_ADMIN = "trust_admin", "Trust admin"
    SUPPLIER_ADMIN = "supplier_admin", "Supplier admin"
    SUPPLIER_STAFF = "supplier_staff", "Supplier staff"
    BUDGET_MANAGER = "budget_manager", "Commissioner budget manager"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"


# Which roles make sense in which kind of organisation.
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrganisationKind.TRUST: (Role.BUYER, Role.APPROVER, Role.TRUST_ADMIN),
    OrganisationKind.SUPPLIER: (Role.SUPPLIER_ADMIN, Role.SUPPLIER_STAFF),
    OrganisationKind.COMMISSIONER: (Role.BUDGET_MANAGER, Role.CARE_COORDINATOR),
}


class Membership(models.Model):
    """A user acts for an organisation in a role. A user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation}"

    def clean(self) -> None:
        if self.organisation_id and self.role not in ROLES_BY_KIND[self.organisation.kind]:
            raise ValidationError(
                {"role": f"A {self.organisation.get_kind_display()} has no {self.get_role_display()} role."}
            )


class PatientProfile(models.Model):
    """A patient with a personal health budget: a user with an NHS number and a commissioner."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="patient_profile")
    nhs_number = models.CharField("NHS number", max_length=10, unique=True, validators=[validate_nhs_number])
    date_of_birth = models.DateField()
    commissioner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="patients",
        limit_choices_to={"kind": OrganisationKind.COMMISSIONER},
    )
    care_coordinator = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="coordinated_patients"
    )

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.CheckConstraint(
                name="nhs_number_ten_digits", condition=Q(nhs_number__regex=r"^[0-9]{10}$")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} (NHS {self.formatted_nhs_number})"

    @property
    def formatted_nhs_number(self) -> str:
        n = self.nhs_number
        return f"{n[:3]} {n[3:6]} {n[6:]}"


class CarerLink(models.Model):
    """A carer (family, a friend, a paid carer) who may act for a patient: choose and buy for them with
    their personal health budget, as their care coordinator may. Made and ended through
    `services.carer_link_create` / `carer_link_delete` (audited) by the back office or the patient's
    care coordinator."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="carer_links")
    carer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="carer_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient__user__full_name", "carer__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "carer"], name="one_link_per_carer_and_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.carer} cares for {self.patient.user}"


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class SupplierRegistration(models.Model):
    """A supplier that registered itself: its organisation stays inactive until the back office
    approves it, and approval invites the contact to be its supplier admin."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="registration")
    contact_name = models.CharField(max_length=150)
    contact_email = models.EmailField()
    # What the supplier says it sells, one category a line, in its own words (organisations stands
    # below the catalogue, so these are read by the back office, not linked to catalogue categories).
    categories = models.TextField()
    status = models.CharField(
        max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING, db_index=True
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_note = models.TextField(
        blank=True, help_text="Why it was rejected, or anything the supplier should know. Emailed to them."
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = "supplier registration"

    def __str__(self) -> str:
        return f"{self.organisation.legal_name or self.organisation.name} ({self.get_status_display()})"

    @property
    def category_list(self) -> list[str]:
        return [line.strip() for line in self.categories.splitlines() if line.strip()]


class Invitation(models.Model):
    """An emailed, single-use, expiring invitation to act for an organisation in a role.

    Only a hash of the token is kept: the link in the email is the one place the token lives."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=30, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="accepted_invitations"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()} at {self.organisation.name}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        return not self.is_accepted and self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return not self.is_accepted and not self.is_expired
