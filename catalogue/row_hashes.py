"""Each offer's row hash (`Offer.row_hash`): a digest of its own terms as a catalogue file gives them.

A re-upload compares each row's hash with the saved offer's in one join (`catalogue.planner.plan`),
so the rows that change nothing are recognised without loading the offers, their tiers and their
products into Python. The hash covers what the planner compares of the offer itself: pack price,
VAT rate, units per pack, lead time, minimum order, stock, patient eligibility and the volume tiers
in order (amounts normalised, so 12.5 and 12.50 hash alike). Not the SKU (the join's key), the
status, held changes or dates (checked or kept apart), nor the product (its saved columns are
compared in the same join, so nothing about a product has to be kept here).

The hash must be true of the saved offer, or a re-upload would leave a changed offer as it is, so
every write keeps it:

- the bulk writer (`catalogue.planner.write.offers_apply`: forms, the API, moderators' approvals,
  files) writes it with the terms;
- single saves of an offer or a tier through the ORM (the demo seed's changes, factories, the back
  office) recompute it in the saving transaction (the hooks below);
- other bulk writes (the demo seed) call `offer_row_hashes_refresh` with their offers;
- the data migration filled it for the offers that were there, and `manage.py browse_rebuild`
  recomputes every offer's.

An empty hash matches no row: such an offer is compared the slow way, never skipped wrongly.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save

from catalogue.models import Offer, VolumeTier
from catalogue.types import OfferInput

# Bumped when what the hash covers changes (then the migration that changes it refills every offer's).
VERSION = "1"
# The offer's columns the hash covers (with its tiers).
HASHED_FIELDS = (
    "pack_price",
    "vat_rate",
    "units_per_pack",
    "lead_time_days",
    "min_order_packs",
    "stock_status",
    "patient_eligible",
)
CHUNK = 5000
# Set while a bulk writer that writes the hashes itself deletes tiers (`hooks_suspended`).
_suspended: ContextVar[bool] = ContextVar("row_hash_hooks_suspended", default=False)


def _amount(value: Any) -> str:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(number.normalize(), "f")


def terms_hash(
    *,
    pack_price: Any,
    vat_rate: Any,
    units_per_pack: int,
    lead_time_days: int | None,
    min_order_packs: int,
    stock_status: str,
    patient_eligible: bool,
    tiers: Iterable[Sequence],
) -> str:
    """The hash of one offer's terms: 32 hex digits (128 bits of BLAKE2b)."""
    text = "|".join(
        (
            VERSION,
            _amount(pack_price),
            _amount(vat_rate),
            str(int(units_per_pack)),
            "" if lead_time_days is None else str(int(lead_time_days)),
            str(int(min_order_packs)),
            str(stock_status),
            "1" if patient_eligible else "0",
            ";".join(f"{int(min_packs)}:{_amount(price)}" for min_packs, price in tiers),
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def offer_input_hash(data: OfferInput) -> str:
    """The hash of the offer this input would save (a file row, a form, the API)."""
    return terms_hash(**{name: getattr(data, name) for name in HASHED_FIELDS}, tiers=data.tiers)


def offer_row_hashes(
    offer_ids: Iterable[int] | None = None,
    *,
    offer_model: type = Offer,
    tier_model: type = VolumeTier,
) -> Iterable[tuple[int, str, str]]:
    """(offer id, stored hash, hash of the saved terms) for these offers (every offer when None),
    a chunk of offers and their tiers at a time."""
    if offer_ids is None:
        ids = list(offer_model.objects.order_by("id").values_list("id", flat=True))
    else:
        ids = sorted(set(offer_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        tiers: dict[int, list] = defaultdict(list)
        rows = (
            tier_model.objects.filter(offer_id__in=chunk)
            .order_by("offer_id", "min_packs")
            .values_list("offer_id", "min_packs", "pack_price")
        )
        for offer_id, min_packs, price in rows:
            tiers[offer_id].append((min_packs, price))
        offers = offer_model.objects.filter(id__in=chunk).order_by()
        offers = offers.values_list("id", "row_hash", *HASHED_FIELDS)
        for pk, stored, *terms in offers:
            yield pk, stored, terms_hash(**dict(zip(HASHED_FIELDS, terms, strict=True)), tiers=tiers[pk])


def offer_row_hashes_stale(offer_ids: Iterable[int] | None = None) -> list[int]:
    """The offers whose stored hash is not the hash of their saved terms (checks and tests: none)."""
    return [pk for pk, stored, computed in offer_row_hashes(offer_ids) if stored != computed]


def offer_row_hashes_refresh(
    offer_ids: Iterable[int] | None = None,
    *,
    offer_model: type = Offer,
    tier_model: type = VolumeTier,
) -> int:
    """Recompute these offers' hashes (every offer's when None) from their saved terms and store
    the ones that differ, without signals or a new `updated_at`. Returns how many changed."""
    hashes = offer_row_hashes(offer_ids, offer_model=offer_model, tier_model=tier_model)
    changed = [offer_model(id=pk, row_hash=computed) for pk, stored, computed in hashes if stored != computed]
    offer_model.objects.bulk_update(changed, ["row_hash"], batch_size=1000)
    return len(changed)


# Hooks: single saves through the ORM, inside the saving transaction. The offer's own save writes
# its hash (worked out before it, from the instance and its saved tiers: no statement more for a new
# offer, one for a changed one); a tier saved or deleted recomputes its offer's.
def _offer_saving(sender, instance: Offer, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not set(update_fields) & set(HASHED_FIELDS):
        return  # a status, a held change or a note: not what the hash covers
    if instance.pk is None:
        tiers: list = []  # a new offer has no tiers yet
    else:
        tiers = list(
            VolumeTier.objects.filter(offer_id=instance.pk)
            .order_by("min_packs")
            .values_list("min_packs", "pack_price")
        )
    try:
        instance.row_hash = terms_hash(
            **{name: getattr(instance, name) for name in HASHED_FIELDS}, tiers=tiers
        )
    except (TypeError, ValueError, ArithmeticError):
        instance.row_hash = ""  # values the database will refuse anyway; never a wrong hash


def _offer_saved(sender, instance: Offer, update_fields=None, **kwargs) -> None:
    if (
        update_fields is not None
        and set(update_fields) & set(HASHED_FIELDS)
        and "row_hash" not in update_fields
    ):
        Offer.objects.filter(pk=instance.pk).update(row_hash=instance.row_hash)


def _tier_changed(sender, instance: VolumeTier, **kwargs) -> None:
    if not _suspended.get():
        offer_row_hashes_refresh([instance.offer_id])


@contextmanager
def hooks_suspended() -> Iterator[None]:
    """For a bulk writer that writes the hashes of the offers it touches itself (`offers_apply`):
    the tiers it deletes on the way do not each recompute their offer's."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def register() -> None:
    pre_save.connect(_offer_saving, sender=Offer, dispatch_uid="row-hash-Offer-saving")
    post_save.connect(_offer_saved, sender=Offer, dispatch_uid="row-hash-Offer-save")
    post_save.connect(_tier_changed, sender=VolumeTier, dispatch_uid="row-hash-VolumeTier-save")
    post_delete.connect(_tier_changed, sender=VolumeTier, dispatch_uid="row-hash-VolumeTier-delete")
