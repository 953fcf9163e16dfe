"""Aggregated purchasing rounds: trusts pool their demand for one product so volume tiers lower the
price for everyone (docs/purchasing.md, "Aggregated purchasing rounds").

Imported by `purchasing/models.py`, so these models belong to the `purchasing` app. Every change
goes through `purchasing.rounds.services`; `Round.committed_packs` is kept in the transaction of
every commitment change (under the round's row lock), so the closing total is the sum of the
commitments.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalogue.models import Offer, Product
from common.money import money_field
from organisations.models import Organisation, OrganisationKind, Region

TRUSTS = {"kind": OrganisationKind.TRUST}


class RoundStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    # Approved: open for commitments from `opens_at` to `closes_at` ("scheduled" before it opens).
    OPEN = "open", "Open"
    CLOSED_MET = "closed_met", "Closed: minimum met"
    CLOSED_UNMET = "closed_unmet", "Closed: minimum not met"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected"


CLOSED_STATUSES = frozenset({RoundStatus.CLOSED_MET, RoundStatus.CLOSED_UNMET})
FINAL_STATUSES = frozenset({*CLOSED_STATUSES, RoundStatus.CANCELLED, RoundStatus.REJECTED})


class RoundAudience(models.TextChoices):
    ALL = "all", "All NHS trusts"
    REGION = "region", "Trusts of one NHS region"
    INVITED = "invited", "Invited trusts"


class Round(models.Model):
    """A round on one product: offered through one or several suppliers' offers (`RoundOffer`), with
    volume tiers over the total packs committed by every trust (`RoundTier`), a minimum total for it
    to succeed, its opening and closing times, a delivery window and an audience."""

    reference = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="rounds")
    proposed_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="proposed_rounds"
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=RoundStatus.choices, default=RoundStatus.PROPOSED, db_index=True
    )
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    delivery_from = models.DateField()
    delivery_to = models.DateField()
    minimum_packs = models.PositiveIntegerField()
    audience = models.CharField(max_length=10, choices=RoundAudience.choices, default=RoundAudience.ALL)
    region = models.CharField(max_length=40, choices=Region.choices, blank=True)
    invited = models.ManyToManyField(
        Organisation, blank=True, related_name="round_invitations", limit_choices_to=TRUSTS
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Why it was rejected or cancelled.
    decision_note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set once the participants have been emailed the outcome, so a retried task does not email again.
    outcome_notified_at = models.DateTimeField(null=True, blank=True)
    committed_packs = models.PositiveIntegerField(default=0)
    # The list price per pack (excluding VAT) when proposed: what the pooled price is compared with.
    list_pack_price = money_field()
    final_pack_price = money_field(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["closes_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="round_status_valid", condition=Q(status__in=[s.value for s in RoundStatus])
            ),
            models.CheckConstraint(name="round_minimum_positive", condition=Q(minimum_packs__gte=1)),
            models.CheckConstraint(
                name="round_closes_after_opening", condition=Q(closes_at__gt=F("opens_at"))
            ),
            models.CheckConstraint(
                name="round_delivery_window_ordered", condition=Q(delivery_to__gte=F("delivery_from"))
            ),
            models.CheckConstraint(
                name="round_region_audience_has_region", condition=~Q(audience="region") | ~Q(region="")
            ),
            models.CheckConstraint(
                name="round_met_has_price",
                condition=~Q(status="closed_met") | Q(final_pack_price__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["status", "closes_at"], name="round_status_closes")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class RoundOffer(models.Model):
    """An offer of the round's product through which trusts commit (and are ordered from)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="round_offers")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="round_offers")

    class Meta:
        ordering = ["round_id", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "offer"], name="round_offer_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}: offer {self.offer_id}"


class RoundTier(models.Model):
    """From `min_packs` committed in total, every participant pays `pack_price` (excluding VAT).
    A round's tiers rise in `min_packs` and fall strictly in price (checked by the service)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="tiers")
    min_packs = models.PositiveIntegerField()
    pack_price = money_field()

    class Meta:
        ordering = ["round_id", "min_packs"]
        constraints = [
            models.UniqueConstraint(fields=["round", "min_packs"], name="round_tier_unique_min"),
            models.CheckConstraint(name="round_tier_min_positive", condition=Q(min_packs__gte=1)),
            models.CheckConstraint(name="round_tier_price_positive", condition=Q(pack_price__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.min_packs}+ packs at {self.pack_price}"


class Commitment(models.Model):
    """One trust's packs in one round (one row per trust and round: a change updates it, a withdrawal
    sets `withdrawn_at`, committing again reuses it). `order` is the purchase order the close made."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="commitments")
    trust = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="round_commitments", limit_choices_to=TRUSTS
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="round_commitments")
    packs = models.PositiveIntegerField()
    committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Where the order goes and what it is charged to (the trust's first active ones unless chosen).
    delivery_site = models.ForeignKey(
        "purchasing.DeliverySite", on_delete=models.PROTECT, related_name="round_commitments"
    )
    cost_centre = models.ForeignKey(
        "purchasing.CostCentre", on_delete=models.PROTECT, related_name="round_commitments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        "purchasing.PurchaseOrder",
        on_delete=models.PROTECT,
        related_name="round_commitments",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["round_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "trust"], name="commitment_one_per_trust_and_round"),
            models.CheckConstraint(name="commitment_packs_positive", condition=Q(packs__gte=1)),
        ]
        indexes = [models.Index(fields=["trust", "-updated_at"], name="commitment_trust_updated")]

    def __str__(self) -> str:
        return f"{self.trust_id}: {self.packs} packs in round {self.round_id}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class RoundVolumePoint(models.Model):
    """The round's committed total after a change, for the chart of committed volume over time."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="volume_points")
    at = models.DateTimeField()
    committed_packs = models.PositiveIntegerField()

    class Meta:
        ordering = ["round_id", "at", "id"]
        indexes = [models.Index(fields=["round", "at"], name="round_volume_round_at")]

    def __str__(self) -> str:
        return f"{self.round_id} at {self.at}: {self.committed_packs}"
