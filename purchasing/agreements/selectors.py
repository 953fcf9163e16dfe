"""Reads of negotiated prices, scoped to the organisation a request acts for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from catalogue.models import Offer
from common.caching import shared_cached, shared_changed
from common.errors import NotFound
from organisations.acting import Acting
from organisations.models import Organisation, OrganisationKind
from purchasing.agreements.models import NegotiatedPrice, NegotiatedPriceTrust


@dataclass(frozen=True)
class LiveContractPrice:
    """What a trust pays for an offer under a negotiated price on a day, and what it rests on."""

    negotiated_price_id: int
    pack_price: Decimal
    reference: str


# The shared cache's namespace of each trust's live contract prices (`live_contract_prices`, keyed by
# the trust and the day: read only when pricing for that trust). It moves on the commit of every save
# or delete of a negotiated price or of its rows per trust (purchasing.signals) and after the
# services' bulk writes (`contract_prices_changed`).
CONTRACT_PRICES = "contract-prices"


def contract_prices_changed() -> None:
    """Some trust's negotiated prices changed: every trust's kept prices go (see common.caching)."""
    shared_changed(CONTRACT_PRICES)


def live_contract_prices(*, trust_id: int, on_date: dt.date) -> dict[int, LiveContractPrice]:
    """The trust's live negotiated prices on `on_date`, by offer id (the lowest, should a supplier's
    data ever hold two: the service and PostgreSQL refuse overlaps): kept in the shared cache under
    the trust and the day, else one query."""
    return shared_cached(
        CONTRACT_PRICES,
        ("live-contract-prices", trust_id, on_date.isoformat()),
        lambda: _live_contract_prices(trust_id=trust_id, on_date=on_date),
    )


def _live_contract_prices(*, trust_id: int, on_date: dt.date) -> dict[int, LiveContractPrice]:
    rows = (
        NegotiatedPriceTrust.objects.filter(
            trust_id=trust_id, live=True, valid_from__lte=on_date, valid_to__gte=on_date
        )
        .order_by("offer_id", "negotiated_price__pack_price")
        .values_list(
            "offer_id", "negotiated_price_id", "negotiated_price__pack_price", "negotiated_price__reference"
        )
    )
    found: dict[int, LiveContractPrice] = {}
    for offer_id, price_id, pack_price, reference in rows:
        found.setdefault(offer_id, LiveContractPrice(price_id, pack_price, reference))
    return found


def _with_parts(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("supplier", "offer__product", "created_by").prefetch_related(
        Prefetch("trusts", queryset=Organisation.objects.order_by("name"))
    )


def negotiated_prices_for(*, acting: Acting, live_only: bool = False) -> QuerySet[NegotiatedPrice]:
    """A supplier's own negotiated prices, or those that apply to a trust; none for anyone else.
    Newest first, with the offer, its product and the trusts loaded."""
    if acting.supplier is not None:
        queryset = NegotiatedPrice.objects.filter(supplier=acting.supplier)
    elif acting.trust is not None:
        # A trust sees those naming it, never which other trusts share them.
        queryset = NegotiatedPrice.objects.filter(applies_to__trust=acting.trust)
    else:
        return NegotiatedPrice.objects.none()
    if live_only:
        queryset = queryset.filter(withdrawn_at__isnull=True, valid_to__gte=timezone.localdate())
    return _with_parts(queryset.order_by("-valid_from", "-id"))


def negotiated_price_for(*, acting: Acting, negotiated_price_id: int | None) -> NegotiatedPrice:
    """One negotiated price the acting organisation may see; NotFound otherwise."""
    found = negotiated_prices_for(acting=acting).filter(pk=negotiated_price_id).first()
    if found is None:
        raise NotFound("No such negotiated price.", field="negotiated_price")
    return found


def trusts_named(prices: Iterable[NegotiatedPrice], *, acting: Acting) -> dict[int, list[Organisation]]:
    """Which trusts each price names, as the viewer may see them: all to the supplier, only itself to a
    trust (from the prefetch: no query)."""
    named = {}
    for price in prices:
        trusts = list(price.trusts.all())
        if acting.supplier is None:
            trusts = [t for t in trusts if acting.trust is not None and t.pk == acting.trust.pk]
        named[price.pk] = trusts
    return named


def offer_of_supplier(*, supplier: Organisation, sku: str) -> Offer | None:
    """The supplier's own offer with this SKU (any status), or None."""
    return Offer.objects.filter(supplier=supplier, supplier_sku=sku.strip()).first()


def trusts_by_ods_code(*, codes: Iterable[str]) -> dict[str, Organisation]:
    """The active NHS trusts with these ODS codes, by code (upper case)."""
    wanted = {code.strip().upper() for code in codes if code.strip()}
    found = Organisation.objects.filter(kind=OrganisationKind.TRUST, is_active=True, ods_code__in=wanted)
    return {trust.ods_code.upper(): trust for trust in found}
