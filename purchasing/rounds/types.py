"""The typed shapes the rounds' pages and API read (`RoundLive`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from purchasing.rounds.models import Commitment, RoundTier


@dataclass(frozen=True)
class RoundLive:
    """A round's figures as a buyer of `acting` sees them now.

    `price_now` is the pack price of the tier reached (None below the first tier: the list price
    then applies and nobody pays less). Savings are per pack, excluding VAT, against the list price
    snapshot and against the last price the trust paid for the product (`pricing`), None when there
    is nothing to compare. `points` are (time, committed packs) for the chart, oldest first.
    """

    committed_packs: int
    minimum_packs: int
    minimum_met: bool
    tier_reached: RoundTier | None
    next_tier: RoundTier | None
    packs_to_next_tier: int | None
    price_now: Decimal | None
    list_pack_price: Decimal
    saving_vs_list: Decimal | None
    last_paid_pack_price: Decimal | None
    saving_vs_last_paid: Decimal | None
    seconds_left: int
    trust_commitment: Commitment | None
    worst_case_pack_price: Decimal
    tiers: tuple[RoundTier, ...] = ()
    participants: int = 0
    points: list[tuple[dt.datetime, int]] = field(default_factory=list)
