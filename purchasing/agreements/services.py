"""Negotiated prices set and withdrawn by the supplier that owns the offer.

Keyword-only, one transaction each, domain errors naming the field. Two live negotiated prices for
the same trust and offer whose dates overlap are refused: checked here under a lock of the offer row
(every set on that offer waits its turn), and on PostgreSQL by an exclusion constraint too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalogue.models import Offer, OfferStatus
from common import audit
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from organisations.acting import Acting
from organisations.models import Organisation, OrganisationKind, User
from purchasing.agreements.models import NegotiatedPrice, NegotiatedPriceTrust
from purchasing.agreements.selectors import contract_prices_changed
from purchasing.services import _amount, _require_member, _text
from purchasing.states import SIDE_ROLES, Side

PRICE_SET = audit.register_kind("purchasing.negotiated_price_set", "Negotiated price set")
PRICE_WITHDRAWN = audit.register_kind("purchasing.negotiated_price_withdrawn", "Negotiated price withdrawn")

MAX_REFERENCE_LENGTH = NegotiatedPrice._meta.get_field("reference").max_length
MAX_TRUSTS = 500


def _acting_supplier(*, actor: User, acting: Acting) -> Organisation:
    supplier = acting.supplier
    if supplier is None:
        raise PermissionDenied("Only a supplier sets negotiated prices.", field="acting")
    _require_member(
        actor=actor, acting=acting, organisation=supplier, roles=SIDE_ROLES[Side.SUPPLIER], what="the staff"
    )
    return supplier


def _price(value) -> Decimal:
    amount = _amount(value, field="pack_price")
    if amount <= 0:
        raise DomainError("Enter a price per pack above £0.00.", field="pack_price")
    return amount


def _date(value, *, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise DomainError("Enter a date.", field=field)
    return value


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _trusts(values: Sequence[Organisation | int]) -> list[Organisation]:
    ids = []
    for value in values or ():
        pk = value.pk if isinstance(value, Organisation) else value
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise DomainError("Choose the trusts by their ids.", field="trusts")
        ids.append(pk)
    ids = sorted(set(ids))
    if not ids:
        raise DomainError("Choose at least one NHS trust the price applies to.", field="trusts")
    if len(ids) > MAX_TRUSTS:
        raise DomainError(f"Name at most {MAX_TRUSTS} trusts.", field="trusts")
    trusts = list(
        Organisation.objects.filter(pk__in=ids, kind=OrganisationKind.TRUST, is_active=True).order_by("name")
    )
    if len(trusts) != len(ids):
        raise DomainError("A negotiated price applies only to active NHS trusts.", field="trusts")
    return trusts


def negotiated_price_set(
    *,
    actor: User,
    acting: Acting,
    offer: Offer | int,
    trusts: Sequence[Organisation | int],
    pack_price: Decimal,
    valid_from: dt.date,
    valid_to: dt.date,
    reference: str,
    note: str = "",
) -> NegotiatedPrice:
    """The acting supplier gives `trusts` a price per pack (excluding VAT) for its own `offer` from
    `valid_from` to `valid_to` inclusive. Another supplier's offer is NotFound; a trust that already
    has a live negotiated price for the offer on any of these days is refused, naming `valid_from`."""
    supplier = _acting_supplier(actor=actor, acting=acting)
    offer_id = offer.pk if isinstance(offer, Offer) else offer
    price = _price(pack_price)
    start = _date(valid_from, field="valid_from")
    end = _date(valid_to, field="valid_to")
    if end < start:
        raise DomainError("The last day is on or after the first day.", field="valid_to")
    if end < timezone.localdate():
        raise DomainError("The last day is today or later.", field="valid_to")
    reference = _text(reference, field="reference", max_length=MAX_REFERENCE_LENGTH)
    note = _text(note, field="note", required=False)
    named = _trusts(trusts)
    with transaction.atomic():
        # The offer's row is the lock: two sets on one offer run one after the other, so the second
        # sees the first's rows when it looks for an overlap.
        locked = Offer.objects.select_for_update().filter(pk=offer_id, supplier=supplier).first()
        if locked is None:
            raise NotFound("No such offer of yours.", field="offer")
        if locked.status == OfferStatus.WITHDRAWN:
            raise DomainError("The offer is withdrawn.", field="offer")
        clash = (
            NegotiatedPriceTrust.objects.filter(
                offer_id=offer_id,
                trust__in=named,
                live=True,
                valid_from__lte=end,
                valid_to__gte=start,
            )
            .select_related("trust", "negotiated_price")
            .order_by("valid_from")
            .first()
        )
        if clash is not None:
            raise Conflict(
                f"{clash.trust.name} has a negotiated price for this offer from "
                f"{_day(clash.valid_from)} to {_day(clash.valid_to)} "
                f"({clash.negotiated_price.reference}): withdraw it first, or choose dates that do not "
                "overlap.",
                field="valid_from",
                code="overlap",
            )
        try:
            with transaction.atomic():
                negotiated = NegotiatedPrice.objects.create(
                    supplier=supplier,
                    offer_id=offer_id,
                    pack_price=price,
                    valid_from=start,
                    valid_to=end,
                    reference=reference,
                    note=note,
                    created_by=actor,
                )
                NegotiatedPriceTrust.objects.bulk_create(
                    NegotiatedPriceTrust(
                        negotiated_price=negotiated,
                        trust=trust,
                        offer_id=offer_id,
                        valid_from=start,
                        valid_to=end,
                    )
                    for trust in named
                )
                contract_prices_changed()  # bulk_create sends no signals
        except IntegrityError:  # PostgreSQL's exclusion constraint: the lock above makes this rare
            raise Conflict(
                "A trust named has a negotiated price for this offer on some of these days.",
                field="valid_from",
                code="overlap",
            ) from None
        audit.record(
            kind=PRICE_SET,
            actor=actor,
            organisation_id=supplier.pk,
            subject=f"Negotiated price {reference}",
            data={
                "negotiated_price": negotiated.pk,
                "offer": offer_id,
                "trusts": [t.pk for t in named],
                "pack_price": str(price),
                "valid_from": start.isoformat(),
                "valid_to": end.isoformat(),
            },
        )
    return negotiated


def negotiated_price_withdraw(
    *, actor: User, acting: Acting, negotiated_price: NegotiatedPrice | int
) -> NegotiatedPrice:
    """The supplier withdraws its negotiated price: from now on its trusts pay what else applies.
    Orders already placed keep the price and reference they were placed with."""
    supplier = _acting_supplier(actor=actor, acting=acting)
    pk = negotiated_price.pk if isinstance(negotiated_price, NegotiatedPrice) else negotiated_price
    with transaction.atomic():
        locked = NegotiatedPrice.objects.select_for_update().filter(pk=pk, supplier=supplier).first()
        if locked is None:
            raise NotFound("No such negotiated price.", field="negotiated_price")
        if locked.withdrawn_at is not None:
            raise Conflict("The negotiated price is withdrawn already.", field="negotiated_price")
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["withdrawn_at"])
        NegotiatedPriceTrust.objects.filter(negotiated_price=locked).update(live=False)
        contract_prices_changed()  # update() sends no signals
        audit.record(
            kind=PRICE_WITHDRAWN,
            actor=actor,
            organisation_id=supplier.pk,
            subject=f"Negotiated price {locked.reference}",
            data={"negotiated_price": locked.pk, "offer": locked.offer_id},
        )
    return locked
