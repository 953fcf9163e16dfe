"""The rounds' business rules (signatures first; bodies follow in the next commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from catalogue.models import Offer, Product
from organisations.acting import Acting
from organisations.models import Organisation, User
from purchasing.rounds.models import Commitment, Round


def round_propose(
    *,
    actor: User,
    acting: Acting,
    product: Product,
    offers: Sequence[Offer],
    title: str,
    description: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    delivery_from: dt.date,
    delivery_to: dt.date,
    minimum_packs: int,
    tiers: Sequence[tuple[int, Decimal]],
    audience: str,
    region: str = "",
    invited: Iterable[Organisation] = (),
) -> Round:
    raise NotImplementedError


def round_approve(*, round: Round, actor: User) -> Round:
    raise NotImplementedError


def round_reject(*, round: Round, actor: User, reason: str) -> Round:
    raise NotImplementedError


def round_cancel(*, round: Round, actor: User, acting: Acting, reason: str) -> Round:
    raise NotImplementedError


def commitment_set(
    *,
    round: Round,
    actor: User,
    acting: Acting,
    packs: int,
    offer: Offer | None = None,
    delivery_site=None,
    cost_centre=None,
) -> Commitment:
    raise NotImplementedError


def commitment_withdraw(*, round: Round, actor: User, acting: Acting) -> Commitment:
    raise NotImplementedError


def round_close(*, round_id: int, now: dt.datetime | None = None) -> Round:
    raise NotImplementedError


def rounds_close_due(*, now: dt.datetime | None = None) -> list[int]:
    raise NotImplementedError
