"""The catalogue's commands: offers created, changed, withdrawn and moderated; categories and bare
products ensured (for the demos of the apps above, which write no catalogue rows themselves).

Every offer write goes through `catalogue.planner` (planned, then written in bulk), the same way a
whole file does, so a form submission and a 100,000-row file follow exactly the same rules.

Moderation: offers from a supplier without `is_trusted_supplier` wait as `pending` until a
moderator approves them; a change to a LIVE offer from such a supplier is kept in
`Offer.pending_changes` and the live terms stay until it is approved. Trusted suppliers' offers
and changes go live at once.

Canonical products are shared between suppliers, so an offer only rewrites its product's
details (name, description, category, identifiers) when no other supplier offers that product.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from catalogue.models import CATEGORY_SEPARATOR, Category, Offer, OfferStatus, Product
from catalogue.planner import OfferPlan, PlanItem, offers_apply, offers_plan
from catalogue.types import OfferInput
from catalogue.validators import offer_input_clean
from common import audit
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from organisations.models import Organisation
from organisations.permissions import SUPPLIER_ROLES, can_act_for

OFFER_MODERATED = audit.register_kind(
    "catalogue.offer_moderated", "Offer moderated", formerly="offer_moderated"
)

# --- Categories ---------------------------------------------------------------------------------


def category_tree_ensure(*, paths: Iterable[str]) -> dict[str, Category]:
    """Each path ('Clinical consumables > Gloves > Examination gloves') and its ancestors, created
    if missing. Returns every category on the paths by path."""
    wanted: list[list[str]] = []
    for path in paths:
        names = [part.strip() for part in path.split(CATEGORY_SEPARATOR.strip())]
        if not all(names):
            raise DomainError(f"'{path}' has an empty level", field="category_path")
        wanted.append(names)
    with transaction.atomic():
        existing = {c.path: c for c in Category.objects.all()}
        slugs = {c.slug for c in existing.values()}
        for names in wanted:
            parent: Category | None = None
            for depth in range(len(names)):
                path = CATEGORY_SEPARATOR.join(names[: depth + 1])
                category = existing.get(path)
                if category is None:
                    category = Category(name=names[depth], parent=parent)
                    category.slug = _unique_slug(names[depth], parent, slugs)
                    category.save()
                    existing[path] = category
                    slugs.add(category.slug)
                parent = category
    return {
        CATEGORY_SEPARATOR.join(n[: i + 1]): existing[CATEGORY_SEPARATOR.join(n[: i + 1])]
        for n in wanted
        for i in range(len(n))
    }


def _unique_slug(name: str, parent: Category | None, taken: set[str]) -> str:
    base = slugify(name)[:100] or "category"
    if base not in taken:
        return base
    if parent is not None:
        base = f"{parent.slug}-{base}"[:110]
    candidate, counter = base, 2
    while candidate in taken:
        candidate = f"{base}-{counter}"
        counter += 1
    return candidate


# --- Products without offers ---------------------------------------------------------------------
# Other apps read products but write them only here (the `model_writes` contract in pyproject.toml).


@transaction.atomic
def product_ensure(*, slug: str, name: str, category_path: str, units_per_pack: int = 1) -> Product:
    """The product with this slug; made, in its category (created if missing), when there is none.
    An existing product is returned as it is: its details belong to the offers that describe it."""
    product = Product.objects.filter(slug=slug).first()
    if product is not None:
        return product
    if units_per_pack < 1:
        raise DomainError("A pack holds at least one unit.", field="units_per_pack")
    category = category_tree_ensure(paths=[category_path])[category_path]
    return Product.objects.create(slug=slug, name=name, category=category, units_per_pack=units_per_pack)


@transaction.atomic
def products_remove_unoffered(*, product_ids: Iterable[int]) -> int:
    """Remove the products among `product_ids` that no supplier offers (an offer protects its
    product) and answer how many went. One at a time, so the search index hears of each. What
    another app keeps about a product is its own to move first: pricing's lines would lose it."""
    removed = 0
    for product in Product.objects.filter(pk__in=list(product_ids), offers__isnull=True).distinct():
        product.delete()
        removed += 1
    return removed


def _raise_first(plan: OfferPlan) -> None:
    if plan.errors:
        raise plan.errors[0].error


# --- Single offers ------------------------------------------------------------------------------


def _check_actor(actor: Any, supplier: Organisation) -> None:
    """Defence in depth: views scope offers already; a user outside the supplier never gets here."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if not can_act_for(actor, supplier, roles=SUPPLIER_ROLES):
        raise NotFound("No such offer.")


def _locked(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().select_related("supplier").get(pk=offer.pk)


@transaction.atomic
def offer_create(*, supplier: Organisation, actor: Any, data: OfferInput, submit: bool = True) -> Offer:
    """A new offer: live at once from a trusted supplier, otherwise pending moderation (or a draft
    when `submit` is False)."""
    _check_actor(actor, supplier)
    data = offer_input_clean(data)
    if Offer.objects.filter(supplier=supplier, supplier_sku=data.supplier_sku).exists():
        raise Conflict(
            f"You already have an offer with SKU {data.supplier_sku}; change that offer instead.",
            field="supplier_sku",
        )
    plan = offers_plan(
        supplier=supplier, items=[PlanItem(data=data)], new_status=None if submit else OfferStatus.DRAFT
    )
    _raise_first(plan)
    offers_apply(plan=plan)
    return Offer.objects.get(supplier=supplier, supplier_sku=data.supplier_sku)


@transaction.atomic
def offer_update(*, offer: Offer, actor: Any, data: OfferInput) -> Offer:
    """Change an offer. A live offer of an untrusted supplier keeps its terms; the change waits in
    `pending_changes` for a moderator. Drafts, pending and withdrawn offers change at once."""
    offer = _locked(offer)
    _check_actor(actor, offer.supplier)
    data = offer_input_clean(data)
    if (
        data.supplier_sku != offer.supplier_sku
        and Offer.objects.filter(supplier=offer.supplier_id, supplier_sku=data.supplier_sku).exists()
    ):
        raise Conflict(f"You already have an offer with SKU {data.supplier_sku}.", field="supplier_sku")
    plan = offers_plan(supplier=offer.supplier, items=[PlanItem(data=data, offer_id=offer.pk)])
    _raise_first(plan)
    offers_apply(plan=plan)
    return Offer.objects.get(pk=offer.pk)


@transaction.atomic
def offer_withdraw(*, offer: Offer, actor: Any) -> Offer:
    """Take an offer off sale (any change waiting for moderation is dropped)."""
    offer = _locked(offer)
    _check_actor(actor, offer.supplier)
    if offer.status != OfferStatus.WITHDRAWN or offer.pending_changes is not None:
        offer.status = OfferStatus.WITHDRAWN
        offer.pending_changes = None
        offer.save(update_fields=["status", "pending_changes", "updated_at"])
    return offer


@transaction.atomic
def offer_submit(*, offer: Offer, actor: Any) -> Offer:
    """Put a draft or withdrawn offer on sale: live for a trusted supplier, else pending moderation."""
    offer = _locked(offer)
    _check_actor(actor, offer.supplier)
    if offer.status not in (OfferStatus.DRAFT, OfferStatus.WITHDRAWN):
        raise Conflict(f"This offer is already {offer.get_status_display().lower()}.", field="status")
    offer.status = OfferStatus.LIVE if offer.supplier.is_trusted_supplier else OfferStatus.PENDING
    offer.save(update_fields=["status", "updated_at"])
    return offer


def _check_moderator(moderator: Any) -> None:
    if not getattr(moderator, "is_staff", False) or not moderator.is_active:
        raise PermissionDenied("Only the marketplace team moderates offers.", field="moderator")


def _moderation_audit(*, offer: Offer, moderator: Any, decision: str, what: str, reason: str = "") -> None:
    audit.record(
        kind=OFFER_MODERATED,
        actor=moderator,
        organisation_id=offer.supplier_id,
        subject=f"offer:{offer.pk}",
        data={"decision": decision, "what": what, "reason": reason, "supplier_sku": offer.supplier_sku},
    )


@transaction.atomic
def offer_approve(*, offer: Offer, moderator: Any) -> Offer:
    """Approve a pending offer (it goes live) or a live offer's waiting changes (they apply)."""
    _check_moderator(moderator)
    offer = _locked(offer)
    if offer.status == OfferStatus.PENDING:
        offer.status = OfferStatus.LIVE
        offer.moderation_note = ""
        offer.save(update_fields=["status", "moderation_note", "updated_at"])
        _moderation_audit(offer=offer, moderator=moderator, decision="approved", what="new offer")
        return offer
    if offer.status == OfferStatus.LIVE and offer.pending_changes:
        data = offer_input_clean(OfferInput.from_json(offer.pending_changes))
        plan = offers_plan(
            supplier=offer.supplier, items=[PlanItem(data=data, offer_id=offer.pk)], apply_directly=True
        )
        _raise_first(plan)
        offers_apply(plan=plan)
        Offer.objects.filter(pk=offer.pk).update(pending_changes=None, moderation_note="")
        offer.refresh_from_db()
        _moderation_audit(offer=offer, moderator=moderator, decision="approved", what="changes")
        return offer
    raise Conflict("Nothing about this offer is waiting for moderation.", field="status")


@transaction.atomic
def offer_reject(*, offer: Offer, moderator: Any, reason: str) -> Offer:
    """Turn down a pending offer (it returns to draft) or a live offer's changes (they are dropped)."""
    _check_moderator(moderator)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why, so the supplier can put it right.", field="reason")
    if len(reason) > 500:
        raise DomainError("Keep the reason to 500 characters.", field="reason")
    offer = _locked(offer)
    if offer.status == OfferStatus.PENDING:
        offer.status = OfferStatus.DRAFT
        what = "new offer"
    elif offer.status == OfferStatus.LIVE and offer.pending_changes:
        offer.pending_changes = None
        what = "changes"
    else:
        raise Conflict("Nothing about this offer is waiting for moderation.", field="status")
    offer.moderation_note = reason
    offer.save(update_fields=["status", "pending_changes", "moderation_note", "updated_at"])
    _moderation_audit(offer=offer, moderator=moderator, decision="rejected", what=what, reason=reason)
    return offer
