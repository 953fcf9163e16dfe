"""Every way an offer changes keeps its row hash true (`Offer.row_hash`, `catalogue.row_hashes`): the
services behind the supplier's pages and the API, moderation, files, single saves through the ORM,
the demo seed. A re-upload trusts the hash to leave a row alone, so after each change the supplier's
file is planned exactly as comparing every row would plan it, and the change is found."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue import demo, services
from catalogue.imports.importer import CatalogueImporter, catalogue_import_start
from catalogue.models import Category, Offer, OfferStatus
from catalogue.planner import PlanItem, offers_plan
from catalogue.row_hashes import offer_input_hash, offer_row_hashes_stale
from common.imports import UploadedFile
from common.models import ImportJob
from organisations import demo as organisations_demo
from organisations.models import Role
from tests.catalogue.factories import OfferFactory, VolumeTierFactory
from tests.catalogue.offer_inputs import STOCKINGS, csv_bytes, file_row, offer_input
from tests.organisations.factories import SupplierFactory, UserFactory, member

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def trusted():
    return SupplierFactory(name="Steady Supplies", is_trusted_supplier=True)


@pytest.fixture
def untrusted():
    return SupplierFactory(name="New Medical Ltd", is_trusted_supplier=False)


@pytest.fixture
def moderator():
    return UserFactory(is_staff=True)


def assert_row_hashes_true() -> None:
    """Every offer's stored hash is the hash of its saved terms and tiers, and none is unknown."""
    assert offer_row_hashes_stale() == []
    assert not Offer.objects.filter(row_hash="").exists()


def as_file_row(data) -> dict[str, str]:
    """An offer input as its supplier's catalogue file would give it."""
    return {
        "supplier_sku": data.supplier_sku,
        "name": data.name,
        "description": data.description,
        "category": data.category_path,
        "manufacturer": data.manufacturer,
        "manufacturer_part_number": data.manufacturer_part_number,
        "gtin": data.gtin or "",
        "npc": data.npc or "",
        "unit_of_measure": data.unit_of_measure,
        "units_per_pack": str(data.units_per_pack),
        "pack_price": str(data.pack_price),
        "vat_rate": str(data.vat_rate),
        "lead_time_days": "" if data.lead_time_days is None else str(data.lead_time_days),
        "min_order_packs": str(data.min_order_packs),
        "stock_status": data.stock_status,
        "tier_prices": ";".join(f"{m}:{p}" for m, p in data.tiers),
        "patient_eligible": "yes" if data.patient_eligible else "no",
    }


def planned(supplier, rows: list[dict[str, str]], *, recognise_unchanged: bool) -> dict:
    importer = CatalogueImporter(supplier=supplier)
    items = []
    for number, row in enumerate(rows, start=2):
        data, problems = importer.check_row(number, row)
        assert not problems, problems
        items.append(PlanItem(data=data, row=number, has_validity=False))
    plan = offers_plan(supplier=supplier, items=items, relist=True, recognise_unchanged=recognise_unchanged)
    assert not plan.errors, plan.errors
    return plan.counts()


def file_counts(supplier, rows: list[dict[str, str]]) -> dict:
    """The supplier's file planned with the unchanged-row join: the same counts as comparing every row."""
    counts = planned(supplier, rows, recognise_unchanged=True)
    assert counts == planned(supplier, rows, recognise_unchanged=False)
    return counts


def upload(supplier, rows: list[dict[str, str]]) -> ImportJob:
    job = catalogue_import_start(
        supplier=supplier, actor=None, upload=UploadedFile("catalogue.csv", io.BytesIO(csv_bytes(rows)))
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    return job


def test_a_file_row_and_the_offer_it_saves_hash_alike(trusted):
    data = offer_input(tiers=[(10, D("11.50")), (50, D("10.9"))], lead_time_days=0)
    offer = services.offer_create(supplier=trusted, actor=None, data=data)

    assert offer.row_hash == offer_input_hash(data)
    # Amounts hash by value: 12.5 is 12.50; a lead time of 0 is not an unknown one.
    assert offer_input_hash(offer_input(pack_price=D("12.5"))) == offer_input_hash(offer_input())
    assert offer_input_hash(offer_input(lead_time_days=0)) != offer_input_hash(offer_input())
    assert offer_input_hash(offer_input(tiers=[(10, D("11"))])) != offer_input_hash(offer_input())


def test_a_suppliers_own_changes_through_the_services_keep_the_hash(trusted):
    data = offer_input(tiers=[(10, D("11.50"))])
    offer = services.offer_create(supplier=trusted, actor=None, data=data)
    assert_row_hashes_true()
    rows = [as_file_row(data)]
    assert file_counts(trusted, rows)["unchanged"] == 1

    services.offer_update(offer=offer, actor=None, data=offer_input(pack_price=D("11.99"), tiers=[]))
    assert_row_hashes_true()
    assert file_counts(trusted, rows)["updated"] == 1  # the file still has the old price and tier

    services.offer_withdraw(offer=offer, actor=None)
    services.offer_submit(offer=offer, actor=None)
    assert_row_hashes_true()


def test_moderation_keeps_the_hash_of_the_live_terms(untrusted, moderator):
    data = offer_input()
    offer = services.offer_create(supplier=untrusted, actor=None, data=data)
    services.offer_approve(offer=offer, moderator=moderator)
    assert_row_hashes_true()
    live = Offer.objects.get(pk=offer.pk).row_hash

    # A change to a live offer waits: the saved (live) terms, and so the hash, stay.
    changed = offer_input(pack_price=D("9.99"), tiers=[(20, D("9.50"))])
    services.offer_update(offer=offer, actor=None, data=changed)
    assert Offer.objects.get(pk=offer.pk).row_hash == live
    assert_row_hashes_true()
    # The file with the live terms takes the waiting change back; with the change, it is already waiting.
    assert file_counts(untrusted, [as_file_row(data)])["updated"] == 1
    assert file_counts(untrusted, [as_file_row(changed)])["unchanged"] == 1

    services.offer_approve(offer=offer, moderator=moderator)
    assert Offer.objects.get(pk=offer.pk).row_hash == offer_input_hash(changed)
    assert_row_hashes_true()
    assert file_counts(untrusted, [as_file_row(data)])["awaiting_moderation"] == 1

    services.offer_update(offer=offer, actor=None, data=data)
    services.offer_reject(offer=offer, moderator=moderator, reason="The old price is not right.")
    assert Offer.objects.get(pk=offer.pk).row_hash == offer_input_hash(changed)
    assert_row_hashes_true()

    second = services.offer_create(supplier=untrusted, actor=None, data=offer_input(supplier_sku="AES-2"))
    services.offer_reject(offer=second, moderator=moderator, reason="Duplicate of AES-TL-M.")
    assert_row_hashes_true()


def test_the_supplier_portal_pages_keep_the_hash(client, trusted):
    client.force_login(member(Role.SUPPLIER_STAFF, trusted))
    form = {
        "supplier_sku": "AES-TM-001",
        "name": "Anti-embolism stocking, thigh length, medium",
        "category": Category.objects.get(path=STOCKINGS).pk,
        "manufacturer": "Compressa Medical",
        "manufacturer_part_number": "AES-TM",
        "gtin": "5012345678900",
        "unit_of_measure": "pair",
        "units_per_pack": "6",
        "pack_price": "14.40",
        "vat_rate": "20",
        "tiers": "10:13.50;50:12.90",
        "lead_time_days": "3",
        "min_order_packs": "1",
        "stock_status": "in_stock",
    }
    assert client.post(reverse("catalogue:supplier-offer-create"), form).status_code == 302
    offer = Offer.objects.get(supplier=trusted)
    assert_row_hashes_true()

    edited = {**form, "pack_price": "13.99", "tiers": "10:13.00"}
    response = client.post(reverse("catalogue:supplier-offer-edit", kwargs={"pk": offer.pk}), edited)

    assert response.status_code == 302
    assert_row_hashes_true()
    row = file_row(
        1,
        supplier_sku="AES-TM-001",
        name=form["name"],
        description="",
        category=STOCKINGS,
        manufacturer="Compressa Medical",
        manufacturer_part_number="AES-TM",
        gtin="5012345678900",
        npc="",
        unit_of_measure="pair",
        units_per_pack="6",
        pack_price="13.99",
        lead_time_days="3",
        tier_prices="10:13.00",
    )
    assert file_counts(trusted, [row])["unchanged"] == 1
    assert file_counts(trusted, [{**row, "tier_prices": "10:13.50;50:12.90"}])["updated"] == 1


def test_the_offers_api_keeps_the_hash(trusted):
    api = APIClient()
    api.force_authenticate(member(Role.SUPPLIER_ADMIN, trusted))
    payload = {
        "supplier_sku": "AES-TM-001",
        "name": "Anti-embolism stocking, thigh length, medium",
        "category_path": STOCKINGS,
        "gtin": "5012345678900",
        "unit_of_measure": "pair",
        "units_per_pack": 6,
        "pack_price": "14.40",
        "vat_rate": "20",
        "tiers": [{"min_packs": 10, "pack_price": "13.50"}],
    }
    created = api.post(reverse("api-offer-list"), payload, format="json")
    assert created.status_code == 201, created.json()
    assert_row_hashes_true()
    before = Offer.objects.get().row_hash

    patched = api.patch(
        reverse("api-offer-detail", kwargs={"pk": created.json()["id"]}),
        {"min_order_packs": 4},
        format="json",
    )

    assert patched.status_code == 200, patched.json()
    assert Offer.objects.get().row_hash != before
    assert_row_hashes_true()


def test_single_saves_through_the_orm_keep_the_hash(trusted):
    """The back office, factories and the demo seed's changes save offers and tiers one at a time."""
    offer = OfferFactory(supplier=trusted, pack_price=D("12.50"))
    assert_row_hashes_true()
    tier = VolumeTierFactory(offer=offer, min_packs=10, pack_price=D("12.00"))
    VolumeTierFactory(offer=offer, min_packs=50, pack_price=D("11.00"))
    assert_row_hashes_true()

    offer.pack_price = D("13.00")
    offer.save()
    assert_row_hashes_true()
    offer.refresh_from_db()
    offer.stock_status = "low_stock"
    offer.save(update_fields=["stock_status", "updated_at"])
    assert_row_hashes_true()
    tier.pack_price = D("11.50")
    tier.save()
    assert_row_hashes_true()
    tier.delete()
    assert_row_hashes_true()
    offer.tiers.all().delete()
    assert_row_hashes_true()

    # A status saved on its own leaves the hash as it is.
    hashed = Offer.objects.get(pk=offer.pk).row_hash
    offer.status = OfferStatus.WITHDRAWN
    offer.save(update_fields=["status"])
    assert Offer.objects.get(pk=offer.pk).row_hash == hashed


def test_files_keep_the_hash_whatever_they_change(trusted, untrusted):
    rows = [file_row(n) for n in range(1, 9)]
    upload(trusted, rows)
    upload(untrusted, rows[:4])
    assert_row_hashes_true()

    changed = [file_row(n, pack_price="3.99", tier_prices="20:3.50") for n in range(1, 5)] + rows[4:]
    upload(trusted, changed)
    Offer.objects.filter(supplier=untrusted).update(status=OfferStatus.LIVE)
    upload(untrusted, changed[:4])  # held for moderation
    assert_row_hashes_true()
    assert file_counts(trusted, rows)["updated"] == 4
    assert file_counts(untrusted, changed[:4])["unchanged"] == 4


def test_the_demo_seed_keeps_the_hash():
    organisations_demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert_row_hashes_true()


def test_a_hash_gone_wrong_is_put_right_by_the_rebuild_command(trusted):
    upload(trusted, [file_row(n) for n in range(1, 4)])
    Offer.objects.filter(supplier_sku="SKU-00001").update(row_hash="0" * 32)
    Offer.objects.filter(supplier_sku="SKU-00002").update(row_hash="")

    out = io.StringIO()
    call_command("browse_rebuild", stdout=out)

    assert "2 offers' row hashes put right" in out.getvalue()
    assert_row_hashes_true()
