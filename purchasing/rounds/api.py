"""The rounds' REST API: list and propose, one round with its live figures, and a trust's commitment.

As purchasing's API (`purchasing/api.py`): one input and one output serializer per operation, rules
in `purchasing.rounds.services` and reads in `purchasing.rounds.selectors`, domain errors in the
API's error shape (400 naming the field, 403 not one who may act, 404 anything the acting
organisation may not see, 409 the round's state does not allow it). The round a path names is
looked up in the acting organisation's scope before the input is read. Amounts are strings.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from common import bounds
from common.api import AmountField, error_responses
from organisations.acting import acting_for
from organisations.models import Region
from purchasing.api import PartyOutput
from purchasing.rounds import selectors, services
from purchasing.rounds.models import Commitment, Round, RoundAudience, RoundOffer, RoundStatus, RoundTier
from purchasing.rounds.types import RoundLive

ROUND_404 = (
    "No such round for you: it is not open to, proposed by or on the offers of the organisation you act for."
)


class TierOutput(serializers.Serializer):
    min_packs = serializers.IntegerField(help_text="From this many packs committed in total, by all trusts.")
    pack_price = AmountField(help_text="Per pack, excluding VAT.")


class RoundOfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    supplier = PartyOutput()
    supplier_sku = serializers.CharField()
    units_per_pack = serializers.IntegerField()
    list_pack_price = AmountField()


class RoundSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    reference = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=RoundStatus.choices)
    product = PartyOutput()
    proposed_by = PartyOutput()
    offers = RoundOfferOutput(many=True)
    tiers = TierOutput(many=True)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    delivery_from = serializers.DateField()
    delivery_to = serializers.DateField()
    minimum_packs = serializers.IntegerField()
    audience = serializers.ChoiceField(choices=RoundAudience.choices)
    region = serializers.CharField(allow_blank=True)
    committed_packs = serializers.IntegerField()
    list_pack_price = AmountField(help_text="The lowest list price of the round's offers when proposed.")
    final_pack_price = AmountField(allow_null=True, help_text="Once the round met its minimum: what all pay.")
    closed_at = serializers.DateTimeField(allow_null=True)


class CommitmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    round = serializers.IntegerField(source="round_id")
    trust = PartyOutput()
    offer = serializers.IntegerField(source="offer_id")
    packs = serializers.IntegerField()
    delivery_site = serializers.IntegerField(source="delivery_site_id")
    cost_centre = serializers.IntegerField(source="cost_centre_id")
    withdrawn = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    order = serializers.CharField(allow_null=True, help_text="The purchase order's number, once closed.")


class PointOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    committed_packs = serializers.IntegerField()


class LiveOutput(serializers.Serializer):
    committed_packs = serializers.IntegerField()
    minimum_met = serializers.BooleanField()
    participants = serializers.IntegerField()
    tier_reached = TierOutput(allow_null=True)
    next_tier = TierOutput(allow_null=True)
    packs_to_next_tier = serializers.IntegerField(allow_null=True)
    price_now = AmountField(allow_null=True, help_text="Per pack at the tier reached (none below the first).")
    worst_case_pack_price = AmountField(
        help_text="The highest price a participant may pay (the first tier's)."
    )
    saving_vs_list = AmountField(allow_null=True, help_text="Per pack, against the list price.")
    last_paid_pack_price = AmountField(
        allow_null=True, help_text="What the acting trust last paid, per pack."
    )
    saving_vs_last_paid = AmountField(allow_null=True)
    seconds_left = serializers.IntegerField()
    your_commitment = CommitmentOutput(allow_null=True)
    points = PointOutput(many=True)


class RoundDetailOutput(RoundSummaryOutput):
    live = LiveOutput()


def _party(obj) -> dict:
    return {"id": obj.pk, "name": obj.name}


def _tier(tier: RoundTier | None) -> dict | None:
    return None if tier is None else {"min_packs": tier.min_packs, "pack_price": tier.pack_price}


def _round_data(request: Request, found: Round) -> dict:
    return {
        "id": found.pk,
        "url": reverse("purchasing-api-round", kwargs={"pk": found.pk}, request=request),
        "reference": found.reference,
        "title": found.title,
        "description": found.description,
        "status": found.status,
        "product": _party(found.product),
        "proposed_by": _party(found.proposed_by_organisation),
        "offers": [
            {
                "id": ro.offer.pk,
                "supplier": _party(ro.offer.supplier),
                "supplier_sku": ro.offer.supplier_sku,
                "units_per_pack": ro.offer.units_per_pack,
                "list_pack_price": ro.offer.pack_price,
            }
            for ro in found.round_offers.all()
        ],
        "tiers": [_tier(t) for t in selectors.round_tiers(found)],
        "opens_at": found.opens_at,
        "closes_at": found.closes_at,
        "delivery_from": found.delivery_from,
        "delivery_to": found.delivery_to,
        "minimum_packs": found.minimum_packs,
        "audience": found.audience,
        "region": found.region,
        "committed_packs": found.committed_packs,
        "list_pack_price": found.list_pack_price,
        "final_pack_price": found.final_pack_price,
        "closed_at": found.closed_at,
    }


def _commitment_data(commitment: Commitment) -> dict:
    return {
        "id": commitment.pk,
        "round_id": commitment.round_id,
        "trust": _party(commitment.trust),
        "offer_id": commitment.offer_id,
        "packs": commitment.packs,
        "delivery_site_id": commitment.delivery_site_id,
        "cost_centre_id": commitment.cost_centre_id,
        "withdrawn": commitment.withdrawn_at is not None,
        "created_at": commitment.created_at,
        "updated_at": commitment.updated_at,
        "order": commitment.order.number if commitment.order_id else None,
    }


def _live_data(live: RoundLive) -> dict:
    return {
        "committed_packs": live.committed_packs,
        "minimum_met": live.minimum_met,
        "participants": live.participants,
        "tier_reached": _tier(live.tier_reached),
        "next_tier": _tier(live.next_tier),
        "packs_to_next_tier": live.packs_to_next_tier,
        "price_now": live.price_now,
        "worst_case_pack_price": live.worst_case_pack_price,
        "saving_vs_list": live.saving_vs_list,
        "last_paid_pack_price": live.last_paid_pack_price,
        "saving_vs_last_paid": live.saving_vs_last_paid,
        "seconds_left": live.seconds_left,
        "your_commitment": _commitment_data(live.trust_commitment) if live.trust_commitment else None,
        "points": [{"at": at, "committed_packs": packs} for at, packs in live.points],
    }


def _detail_response(request: Request, found: Round, code: int = status.HTTP_200_OK) -> Response:
    acting = acting_for(request)
    live = selectors.round_live(round=found, acting=acting)
    data = {**_round_data(request, found), "live": _live_data(live)}
    return Response(RoundDetailOutput(data).data, status=code)


# --- Rounds: list and propose ----------------------------------------------------------------------


class TierInput(serializers.Serializer):
    min_packs = serializers.IntegerField(**bounds.integer(RoundTier, "min_packs", min_value=1))
    pack_price = AmountField(help_text="Per pack, excluding VAT.")


class ProposeInput(serializers.Serializer):
    product = serializers.IntegerField(
        **bounds.integer(Round, "product", min_value=1), help_text="The product's id (/api/v1/products/)."
    )
    offers = serializers.ListField(
        child=serializers.IntegerField(**bounds.integer(RoundOffer, "offer", min_value=1)),
        min_length=1,
        max_length=50,
        help_text="Offers of the product trusts commit through: a supplier its own; a trust admin any.",
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    delivery_from = serializers.DateField()
    delivery_to = serializers.DateField()
    minimum_packs = serializers.IntegerField(**bounds.integer(Round, "minimum_packs", min_value=1))
    tiers = TierInput(
        many=True, help_text="Rising in packs and falling in price; the first at or below the minimum."
    )
    audience = serializers.ChoiceField(choices=RoundAudience.choices)
    region = serializers.ChoiceField(choices=Region.choices, required=False, allow_blank=True, default="")
    invited = serializers.ListField(
        child=serializers.IntegerField(**bounds.integer(Round, "proposed_by_organisation", min_value=1)),
        required=False,
        default=list,
        max_length=500,
    )


class RoundFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=RoundStatus.values, required=False)


class RoundListApi(GenericAPIView):
    queryset = Round.objects.none()

    @extend_schema(
        operation_id="rounds_list",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=RoundStatus.values, description="Only this status."
            )
        ],
        responses=RoundSummaryOutput(many=True),
        description="The rounds the acting organisation may see, closing soonest first: for a trust, the "
        "approved rounds open to it (all trusts, its region, or invited) and those it proposed or joined; "
        "for a supplier, those it proposed and those on its offers.",
    )
    def get(self, request: Request) -> Response:
        filters = RoundFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rounds = selectors.rounds_visible(acting=acting_for(request))
        if wanted := filters.validated_data.get("status"):
            rounds = rounds.filter(status=wanted)
        page = self.paginate_queryset(rounds)
        return self.get_paginated_response(
            RoundSummaryOutput([_round_data(request, r) for r in page], many=True).data
        )

    @extend_schema(
        operation_id="rounds_create",
        request=ProposeInput,
        responses={201: RoundDetailOutput, **error_responses(403)},
        description="Propose a round (a supplier's staff on its own offers, or a trust admin on any buyable "
        "offers of the product). It waits for the marketplace team's approval. A tier table that does not "
        "rise in packs and fall in price is a 400 naming `tiers`.",
    )
    def post(self, request: Request) -> Response:
        acting = acting_for(request)
        acting.require()
        given = ProposeInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        made = services.round_propose(
            actor=request.user,
            acting=acting,
            product=data["product"],
            offers=data["offers"],
            title=data["title"],
            description=data["description"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            delivery_from=data["delivery_from"],
            delivery_to=data["delivery_to"],
            minimum_packs=data["minimum_packs"],
            tiers=[(t["min_packs"], t["pack_price"]) for t in data["tiers"]],
            audience=data["audience"],
            region=data["region"],
            invited=data["invited"],
        )
        found = selectors.round_for(acting=acting, round_id=made.pk)
        return _detail_response(request, found, status.HTTP_201_CREATED)


class RoundDetailApi(APIView):
    @extend_schema(
        operation_id="rounds_retrieve",
        responses={200: RoundDetailOutput, **error_responses(404, e404=ROUND_404)},
        description="One round with its live figures for the acting organisation: packs committed, the "
        "tier reached and the next one, the price now, the acting trust's savings against the list price "
        "and what it last paid, time left, its own commitment and the committed volume over time.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail_response(request, selectors.round_for(acting=acting_for(request), round_id=pk))


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Why: every trust that joined, and the suppliers, are emailed it."
    )


class RoundCancelApi(APIView):
    @extend_schema(
        operation_id="rounds_cancel",
        request=CancelInput,
        responses={
            200: RoundDetailOutput,
            **error_responses(
                403,
                404,
                409,
                e403="Not the proposer's staff (a supplier's) or trust admin (a trust's).",
                e404=ROUND_404,
                e409="The round is not proposed or open (`round_not_cancellable`, field `status`).",
            ),
        },
        description="Cancel a proposed or open round before it closes (its proposer, or the marketplace "
        "team): the trusts' commitments end, nothing is ordered, and the participants and suppliers are "
        "emailed the reason.",
    )
    def post(self, request: Request, pk: int) -> Response:
        acting = acting_for(request)
        acting.require()
        found = selectors.round_for(acting=acting, round_id=pk)
        given = CancelInput(data=request.data)
        given.is_valid(raise_exception=True)
        services.round_cancel(
            round=found, actor=request.user, acting=acting, reason=given.validated_data["reason"]
        )
        return _detail_response(request, selectors.round_for(acting=acting, round_id=pk))


# --- Commitments ---------------------------------------------------------------------------------


class CommitInput(serializers.Serializer):
    packs = serializers.IntegerField(
        **bounds.integer(Commitment, "packs", min_value=1, max_value=services.MAX_PACKS),
        help_text="The trust's packs in all (a change replaces the commitment, it does not add to it).",
    )
    offer = serializers.IntegerField(
        **bounds.integer(Commitment, "offer", min_value=1),
        required=False,
        allow_null=True,
        default=None,
        help_text="Which supplier's offer, when several.",
    )
    delivery_site = serializers.IntegerField(
        **bounds.integer(Commitment, "delivery_site", min_value=1),
        required=False,
        allow_null=True,
        default=None,
    )
    cost_centre = serializers.IntegerField(
        **bounds.integer(Commitment, "cost_centre", min_value=1),
        required=False,
        allow_null=True,
        default=None,
    )


COMMIT_ERRORS = error_responses(
    403,
    404,
    409,
    e403="Not a buyer, approver or trust admin of the acting trust, or the trust is not in the round's "
    "audience (`not_in_audience`).",
    e404=ROUND_404,
    e409="The round is not open: `round_closed`, `round_not_open_yet`, `round_not_open`.",
)


class RoundCommitmentsApi(APIView):
    @extend_schema(
        operation_id="rounds_commitments_list",
        responses={200: CommitmentOutput(many=True), **error_responses(404, e404=ROUND_404)},
        description="The commitments the acting organisation may read: a trust its own; a supplier those "
        "through its offers (with their orders once closed); the proposer all of them.",
    )
    def get(self, request: Request, pk: int) -> Response:
        acting = acting_for(request)
        found = selectors.round_for(acting=acting, round_id=pk)
        commitments = selectors.round_commitments(round=found, acting=acting)
        return Response(CommitmentOutput([_commitment_data(c) for c in commitments], many=True).data)

    @extend_schema(
        operation_id="rounds_commitments_create",
        request=CommitInput,
        responses={
            200: OpenApiResponse(CommitmentOutput, description="The trust's commitment, changed."),
            201: OpenApiResponse(CommitmentOutput, description="The trust's new commitment."),
            **COMMIT_ERRORS,
        },
        description="Commit the acting trust's packs to an open round, or change them (one commitment per "
        "trust and round). The commitment at the round's highest tier price must be within the caller's "
        "approval band: above it is a 400 naming `packs` (`above_approval_limit`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        acting = acting_for(request)
        acting.require()
        found = selectors.round_for(acting=acting, round_id=pk)
        given = CommitInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        had = selectors.commitment_of(round=found, trust=acting.trust)
        made = services.commitment_set(
            round=found,
            actor=request.user,
            acting=acting,
            packs=data["packs"],
            offer=data["offer"],
            delivery_site=data["delivery_site"],
            cost_centre=data["cost_centre"],
        )
        fresh = selectors.round_commitments(round=found, acting=acting).get(pk=made.pk)
        code = status.HTTP_200_OK if had is not None else status.HTTP_201_CREATED
        return Response(CommitmentOutput(_commitment_data(fresh)).data, status=code)

    @extend_schema(
        operation_id="rounds_commitments_destroy",
        request=None,
        responses={200: CommitmentOutput, **COMMIT_ERRORS},
        description="Withdraw the acting trust's commitment before the close (it may commit again).",
    )
    def delete(self, request: Request, pk: int) -> Response:
        acting = acting_for(request)
        acting.require()
        found = selectors.round_for(acting=acting, round_id=pk)
        made = services.commitment_withdraw(round=found, actor=request.user, acting=acting)
        fresh = selectors.round_commitments(round=found, acting=acting).get(pk=made.pk)
        return Response(CommitmentOutput(_commitment_data(fresh)).data)
