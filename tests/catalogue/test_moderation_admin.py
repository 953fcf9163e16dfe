"""The marketplace team moderates suppliers' new offers and changes in the back office."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalogue import services
from catalogue.models import Category, Offer, OfferStatus
from catalogue.types import OfferInput
from organisations.models import Role
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory, UserFactory, member

pytestmark = pytest.mark.django_db

STOCKINGS = "Clinical consumables > Hosiery > Anti-embolism stockings"
QUEUE = "catalogue-moderation:index"


@pytest.fixture
def moderator(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def newcomer():
    return SupplierFactory(name="Newcomer Medical", is_trusted_supplier=False)


def submit(supplier, **overrides) -> Offer:
    values = {
        "supplier_sku": "AES-1",
        "name": "Anti-embolism stocking, knee length, small",
        "category_path": STOCKINGS,
        "unit_of_measure": "pair",
        "units_per_pack": 1,
        "pack_price": Decimal("2.40"),
        "vat_rate": Decimal("20"),
        "manufacturer": "Compressa Medical",
        "manufacturer_part_number": "AES-KS",
    }
    values.update(overrides)
    return services.offer_create(supplier=supplier, actor=None, data=OfferInput(**values))


def test_the_queue_lists_new_offers_and_changes_waiting(client, moderator, newcomer):
    new = submit(newcomer)
    live = OfferFactory(
        supplier=newcomer,
        supplier_sku="LIVE-1",
        product=ProductFactory(category=Category.objects.get(path=STOCKINGS)),
        pack_price=Decimal("5.00"),
    )
    services.offer_update(
        offer=live,
        actor=None,
        data=OfferInput(
            **{
                **vars_of(live),
                "pack_price": Decimal("4.50"),
            }
        ),
    )
    OfferFactory(supplier_sku="NOT-WAITING")

    response = client.get(reverse(QUEUE))

    assert response.status_code == 200
    offers = [item["offer"] for item in response.context["items"]]
    assert set(offers) == {new, live}
    body = response.content.decode()
    assert "New offer" in body
    assert "Price per pack (excl. VAT): 5.00 → <strong>4.50</strong>" in body
    assert "NOT-WAITING" not in body


def vars_of(offer: Offer) -> dict:
    from catalogue.selectors import offer_input

    data = offer_input(offer=offer)
    return {name: getattr(data, name) for name in data.__dataclass_fields__}


def test_approving_a_new_offer_puts_it_live(client, moderator, newcomer):
    offer = submit(newcomer)

    response = client.post(reverse("catalogue-moderation:approve", kwargs={"pk": offer.pk}))

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.LIVE


def test_approving_changes_applies_them(client, moderator, newcomer):
    offer = OfferFactory(
        supplier=newcomer,
        product=ProductFactory(category=Category.objects.get(path=STOCKINGS)),
        pack_price=Decimal("5.00"),
    )
    services.offer_update(
        offer=offer, actor=None, data=OfferInput(**{**vars_of(offer), "pack_price": Decimal("4.50")})
    )

    client.post(reverse("catalogue-moderation:approve", kwargs={"pk": offer.pk}))

    offer.refresh_from_db()
    assert offer.pack_price == Decimal("4.50")
    assert offer.pending_changes is None


def test_rejecting_needs_a_reason_and_returns_a_new_offer_to_draft(client, moderator, newcomer):
    offer = submit(newcomer)
    url = reverse("catalogue-moderation:reject", kwargs={"pk": offer.pk})

    form = client.get(url)
    no_reason = client.post(url, {"reason": ""})
    rejected = client.post(url, {"reason": "The GTIN belongs to a different size."})

    assert form.status_code == 200
    assert no_reason.status_code == 200 and "reason" in no_reason.context["form"].errors
    assert rejected.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DRAFT
    assert offer.moderation_note == "The GTIN belongs to a different size."


def test_an_offer_not_waiting_cannot_be_approved(client, moderator):
    offer = OfferFactory()

    assert client.post(reverse("catalogue-moderation:approve", kwargs={"pk": offer.pk})).status_code == 404


def test_the_menu_shows_how_many_offers_wait(client, moderator, newcomer):
    submit(newcomer)
    submit(
        newcomer,
        supplier_sku="AES-2",
        manufacturer_part_number="AES-KS2",
        name="Anti-embolism stocking, knee, M",
    )

    body = client.get(reverse("wagtailadmin_home")).content.decode()

    assert "Moderation (2)" in body


def test_someone_without_staff_status_cannot_moderate(client, newcomer):
    offer = submit(newcomer)
    supplier_admin = member(Role.SUPPLIER_ADMIN, newcomer)
    client.force_login(supplier_admin)

    response = client.post(reverse("catalogue-moderation:approve", kwargs={"pk": offer.pk}))

    assert response.status_code in (302, 403)  # the admin sends non-staff to its sign-in
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PENDING


def test_offers_are_read_only_in_the_back_office(client, moderator):
    offer = OfferFactory()

    listing = client.get(reverse("catalogue-offers:index"))
    inspect = client.get(reverse("catalogue-offers:inspect", kwargs={"pk": offer.pk}))
    edit = client.post(reverse("catalogue-offers:edit", kwargs={"pk": offer.pk}), {"status": "withdrawn"})

    assert listing.status_code == 200 and offer.supplier_sku in listing.content.decode()
    assert inspect.status_code == 200
    assert edit.status_code in (302, 403)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.LIVE


def test_categories_and_products_are_listed_in_the_back_office(client, moderator):
    product = ProductFactory(name="Walking frame, standard")

    assert client.get(reverse("catalogue-categories:index")).status_code == 200
    assert "Walking frame, standard" in client.get(reverse("catalogue-products:index")).content.decode()
    edit = client.get(reverse("catalogue-products:edit", kwargs={"pk": product.pk}))
    assert edit.status_code == 200


def test_the_offer_listing_in_the_back_office_does_not_query_per_row(
    client, moderator, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        OfferFactory()
    url = reverse("catalogue-offers:index")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(15):
        OfferFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_moderation_queue_does_not_query_per_offer(
    client, moderator, newcomer, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submit(newcomer)
    url = reverse(QUEUE)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        submit(
            newcomer,
            supplier_sku=f"AES-X{i}",
            manufacturer_part_number=f"AES-X{i}",
            name=f"Stocking variant {i}",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).context["items"]) == 11
