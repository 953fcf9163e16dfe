"""Suppliers' offers: created, changed, withdrawn, and moderated when the supplier is not trusted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalogue import services
from catalogue.models import Category, Offer, OfferStatus, Product
from catalogue.types import OfferInput
from catalogue.validators import OfferInvalid
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.models import AuditEvent
from organisations.models import Role
from tests.catalogue.factories import OfferFactory
from tests.catalogue.offer_inputs import NITRILE, gtin13, offer_input
from tests.organisations.factories import SupplierFactory, UserFactory, member

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def trusted():
    return SupplierFactory(is_trusted_supplier=True)


@pytest.fixture
def untrusted():
    return SupplierFactory(is_trusted_supplier=False)


@pytest.fixture
def moderator():
    return UserFactory(is_staff=True)


def test_a_trusted_suppliers_new_offer_goes_live_with_its_tiers(trusted):
    offer = services.offer_create(
        supplier=trusted, actor=None, data=offer_input(tiers=[(100, D("12.00")), (500, D("11.50"))])
    )

    assert offer.status == OfferStatus.LIVE
    assert offer.pack_price == D("12.50")
    assert list(offer.tiers.values_list("min_packs", "pack_price")) == [(100, D("12.00")), (500, D("11.50"))]


def test_an_untrusted_suppliers_new_offer_waits_for_moderation(untrusted):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input())

    assert offer.status == OfferStatus.PENDING


def test_a_supplier_may_keep_a_new_offer_as_a_draft_and_submit_it_later(untrusted):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input(), submit=False)
    assert offer.status == OfferStatus.DRAFT

    offer = services.offer_submit(offer=offer, actor=None)

    assert offer.status == OfferStatus.PENDING


def test_a_supplier_cannot_list_the_same_sku_twice(trusted):
    services.offer_create(supplier=trusted, actor=None, data=offer_input())

    with pytest.raises(Conflict) as raised:
        services.offer_create(supplier=trusted, actor=None, data=offer_input(name="Another name"))

    assert raised.value.field == "supplier_sku"


def test_every_bad_value_is_named_by_its_field(trusted):
    bad = offer_input(
        name="No",
        gtin="5012345678901",
        npc="AB-12",
        vat_rate=D("17"),
        units_per_pack=0,
        tiers=[(500, D("11.00")), (100, D("12.00"))],
        category_path="",
    )

    with pytest.raises(OfferInvalid) as raised:
        services.offer_create(supplier=trusted, actor=None, data=bad)

    assert set(raised.value.errors) == {
        "name",
        "gtin",
        "npc",
        "vat_rate",
        "units_per_pack",
        "tiers",
        "category_path",
    }
    assert "check digit" in raised.value.errors["gtin"]
    assert not Offer.objects.exists()


def test_an_unknown_category_is_refused(trusted):
    with pytest.raises(DomainError) as raised:
        services.offer_create(supplier=trusted, actor=None, data=offer_input(category_path="Toys > Kites"))

    assert raised.value.field == "category_path"


def test_category_paths_are_matched_whatever_their_case_and_spacing(trusted):
    offer = services.offer_create(
        supplier=trusted,
        actor=None,
        data=offer_input(category_path=" clinical consumables>hosiery > ANTI-EMBOLISM STOCKINGS"),
    )

    assert offer.product.category.path == "Clinical consumables > Hosiery > Anti-embolism stockings"


def test_a_trusted_suppliers_change_applies_at_once(trusted):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input())

    offer = services.offer_update(
        offer=offer, actor=None, data=offer_input(pack_price=D("11.99"), tiers=[(50, D("11.00"))])
    )

    assert offer.pack_price == D("11.99")
    assert offer.pending_changes is None
    assert list(offer.tiers.values_list("min_packs", flat=True)) == [50]


def test_saving_an_offer_unchanged_writes_nothing(trusted):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input(tiers=[(100, D("12.00"))]))

    again = services.offer_update(offer=offer, actor=None, data=offer_input(tiers=[(100, D("12.00"))]))

    assert again.updated_at == offer.updated_at
    assert again.product.updated_at == offer.product.updated_at


def test_a_change_to_an_untrusted_suppliers_live_offer_waits_and_the_live_terms_stay(untrusted, moderator):
    offer = OfferFactory(supplier=untrusted, pack_price=D("12.50"), supplier_sku="AES-TL-M")
    offer = services.offer_update(offer=offer, actor=None, data=offer_input(pack_price=D("9.99")))

    assert offer.status == OfferStatus.LIVE
    assert offer.pack_price == D("12.50")
    assert offer.pending_changes["pack_price"] == "9.99"

    offer = services.offer_approve(offer=offer, moderator=moderator)

    assert offer.pack_price == D("9.99")
    assert offer.pending_changes is None
    event = AuditEvent.objects.get(kind=services.OFFER_MODERATED)
    assert event.subject == f"offer:{offer.pk}"
    assert event.data["decision"] == "approved"
    assert event.data["what"] == "changes"
    assert event.actor == moderator


def test_a_supplier_taking_back_a_waiting_change_clears_it(untrusted):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input())
    Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.LIVE)
    offer = services.offer_update(offer=offer, actor=None, data=offer_input(pack_price=D("9.99")))
    assert offer.pending_changes is not None

    offer = services.offer_update(offer=offer, actor=None, data=offer_input())

    assert offer.pending_changes is None
    assert offer.pack_price == D("12.50")


def test_approving_a_pending_offer_puts_it_live_and_is_audited(untrusted, moderator):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input())

    offer = services.offer_approve(offer=offer, moderator=moderator)

    assert offer.status == OfferStatus.LIVE
    assert AuditEvent.objects.filter(kind=services.OFFER_MODERATED, organisation_id=untrusted.pk).exists()


def test_rejecting_a_new_offer_returns_it_to_draft_with_the_reason(untrusted, moderator):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input())

    offer = services.offer_reject(offer=offer, moderator=moderator, reason="The image shows another product.")

    assert offer.status == OfferStatus.DRAFT
    assert offer.moderation_note == "The image shows another product."
    event = AuditEvent.objects.get(kind=services.OFFER_MODERATED)
    assert event.data["decision"] == "rejected"
    assert event.data["reason"] == "The image shows another product."


def test_rejecting_a_change_keeps_the_live_terms(untrusted, moderator):
    offer = OfferFactory(supplier=untrusted, pack_price=D("12.50"), supplier_sku="AES-TL-M")
    offer = services.offer_update(offer=offer, actor=None, data=offer_input(pack_price=D("1.00")))

    offer = services.offer_reject(offer=offer, moderator=moderator, reason="Price looks like a typo.")

    assert offer.status == OfferStatus.LIVE
    assert offer.pack_price == D("12.50")
    assert offer.pending_changes is None


def test_a_rejection_needs_a_reason(untrusted, moderator):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input())

    with pytest.raises(DomainError) as raised:
        services.offer_reject(offer=offer, moderator=moderator, reason="  ")

    assert raised.value.field == "reason"


def test_only_the_marketplace_team_moderates(untrusted):
    offer = services.offer_create(supplier=untrusted, actor=None, data=offer_input())

    with pytest.raises(PermissionDenied):
        services.offer_approve(offer=offer, moderator=member(Role.SUPPLIER_ADMIN, untrusted))


def test_a_live_offer_with_nothing_waiting_cannot_be_approved(trusted, moderator):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input())

    with pytest.raises(Conflict):
        services.offer_approve(offer=offer, moderator=moderator)


def test_withdrawing_an_offer_takes_it_off_sale_and_drops_waiting_changes(untrusted):
    offer = OfferFactory(supplier=untrusted, supplier_sku="AES-TL-M")
    offer = services.offer_update(offer=offer, actor=None, data=offer_input(pack_price=D("1.00")))

    offer = services.offer_withdraw(offer=offer, actor=None)

    assert offer.status == OfferStatus.WITHDRAWN
    assert offer.pending_changes is None


def test_a_supplier_cannot_change_another_suppliers_offer(trusted):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input())
    outsider = member(Role.SUPPLIER_ADMIN, SupplierFactory())

    with pytest.raises(NotFound):
        services.offer_update(offer=offer, actor=outsider, data=offer_input(pack_price=D("1.00")))
    with pytest.raises(NotFound):
        services.offer_withdraw(offer=offer, actor=outsider)

    offer.refresh_from_db()
    assert offer.pack_price == D("12.50")
    assert offer.status == OfferStatus.LIVE


def test_a_member_of_the_supplier_may_change_its_offer(trusted):
    staff = member(Role.SUPPLIER_STAFF, trusted)
    offer = services.offer_create(supplier=trusted, actor=staff, data=offer_input())

    offer = services.offer_update(offer=offer, actor=staff, data=offer_input(pack_price=D("10.00")))

    assert offer.pack_price == D("10.00")


def test_the_only_supplier_of_a_product_may_correct_its_details(trusted):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input())

    offer = services.offer_update(
        offer=offer, actor=None, data=offer_input(name="Anti-embolism stocking, thigh, M", npc="FAB1")
    )

    assert offer.product.name == "Anti-embolism stocking, thigh, M"
    assert offer.product.npc == "FAB1"


def test_a_shared_products_details_are_not_rewritten_by_one_supplier(trusted):
    first = services.offer_create(supplier=trusted, actor=None, data=offer_input())
    other = SupplierFactory(is_trusted_supplier=True)
    services.offer_create(supplier=other, actor=None, data=offer_input(name="Stocking TL M (other words)"))

    services.offer_update(offer=first, actor=None, data=offer_input(name="Renamed by the first supplier"))

    product = Product.objects.get()
    assert product.name == "Anti-embolism stocking, thigh length, medium"


def test_changing_an_offers_gtin_to_another_products_moves_the_offer(trusted):
    other_product_offer = OfferFactory(product__gtin=gtin13(50).zfill(14))
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input(manufacturer_part_number=""))

    offer = services.offer_update(
        offer=offer, actor=None, data=offer_input(gtin=gtin13(50), manufacturer_part_number="")
    )

    assert offer.product_id == other_product_offer.product_id


def test_the_sku_can_be_renamed_but_not_onto_another_offer(trusted):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input())
    services.offer_create(
        supplier=trusted,
        actor=None,
        data=offer_input(supplier_sku="TAKEN", gtin=gtin13(60), category_path=NITRILE),
    )

    renamed = services.offer_update(offer=offer, actor=None, data=offer_input(supplier_sku="AES-NEW"))
    assert renamed.pk == offer.pk
    assert renamed.supplier_sku == "AES-NEW"
    with pytest.raises(Conflict):
        services.offer_update(offer=offer, actor=None, data=offer_input(supplier_sku="TAKEN"))


def test_pending_changes_round_trip_as_json():
    data = offer_input(tiers=[(100, D("12.00"))], lead_time_days=3)

    assert OfferInput.from_json(data.to_json()) == data


def test_every_install_has_the_category_tree():
    paths = set(Category.objects.values_list("path", flat=True))

    assert len(paths) >= 60
    for path in (
        "Clinical consumables > Hosiery > Anti-embolism stockings",
        "Clinical consumables > Gloves > Examination gloves > Nitrile",
        "Clinical consumables > Gloves > Surgical gloves > Latex",
        "Wound care > Dressings > Foam dressings",
        "Continence > Catheters > Intermittent catheters",
        "Mobility aids > Rollators",
        "Wheelchairs > Powered wheelchairs",
        "Beds and pressure care > Pressure-relieving mattresses",
        "Facilities > Waste > Clinical waste bags",
        "Services > Transport > Patient transport",
    ):
        assert path in paths
    assert Category.objects.filter(path="Wheelchairs > Powered wheelchairs").get().depth == 1


def test_category_tree_ensure_adds_missing_levels_once():
    made = services.category_tree_ensure(paths=["Diagnostics > Ear care > Otoscopes"])
    again = services.category_tree_ensure(paths=["Diagnostics > Ear care > Otoscopes"])

    assert made["Diagnostics > Ear care > Otoscopes"] == again["Diagnostics > Ear care > Otoscopes"]
    assert made["Diagnostics > Ear care"].parent.path == "Diagnostics"
    assert Category.objects.filter(name="Ear care").count() == 1


# --- Products without offers (for the demos of the apps above, which write no catalogue rows) ------


def test_a_product_another_apps_demo_needs_is_made_once_in_its_category():
    made = services.product_ensure(
        slug="iv-cannula-20-g-pink",
        name="IV cannula, 20 G, pink",
        category_path="Clinical consumables > Vascular access > IV cannulas",
        units_per_pack=50,
    )
    assert (made.category.path, made.units_per_pack) == (
        "Clinical consumables > Vascular access > IV cannulas",
        50,
    )

    again = services.product_ensure(
        slug="iv-cannula-20-g-pink", name="Another name", category_path="Elsewhere", units_per_pack=1
    )

    assert again.pk == made.pk
    again.refresh_from_db()
    assert (again.name, again.category.path) == ("IV cannula, 20 G, pink", made.category.path)
    assert not Category.objects.filter(name="Elsewhere").exists()


def test_a_product_needs_a_pack_of_at_least_one_unit():
    with pytest.raises(DomainError) as refused:
        services.product_ensure(slug="empty", name="Empty", category_path="Things", units_per_pack=0)
    assert refused.value.field == "units_per_pack"
    assert not Product.objects.filter(slug="empty").exists()


def test_only_products_nobody_offers_are_removed():
    offered = OfferFactory().product
    unoffered = services.product_ensure(slug="old", name="Old", category_path="Things")

    removed = services.products_remove_unoffered(product_ids=[offered.pk, unoffered.pk])

    assert removed == 1
    assert Product.objects.filter(pk=offered.pk).exists()
    assert not Product.objects.filter(pk=unoffered.pk).exists()
