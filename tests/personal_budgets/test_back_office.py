"""The back office lists, filters, searches and inspects budgets, allocations and every version of
the support plans, and never adds, changes or deletes them (money moves only through the ledger)."""

from __future__ import annotations

import pytest

from personal_budgets.models import Allocation, SupportPlan
from tests.organisations.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True))


def read_only(client, prefix: str, pk: int) -> None:
    assert client.get(f"/cms/personal-budgets/{prefix}/new/").status_code in {302, 403}
    assert client.get(f"/cms/personal-budgets/{prefix}/edit/{pk}/").status_code in {302, 403}
    assert client.post(f"/cms/personal-budgets/{prefix}/edit/{pk}/", {}).status_code in {302, 403}
    assert client.get(f"/cms/personal-budgets/{prefix}/delete/{pk}/").status_code in {302, 403}
    assert client.post(f"/cms/personal-budgets/{prefix}/delete/{pk}/").status_code in {302, 403}


def test_budgets_are_listed_filtered_and_inspected_but_never_changed(client, staff, world):
    world.give_budget(amount="2000.00", allocate="500.00")
    page = client.get(f"/cms/personal-budgets/budgets/?q=Pat&commissioner={world.icb.pk}")
    assert page.status_code == 200 and "Personal wheelchair budget" in page.content.decode()
    inspect = client.get(f"/cms/personal-budgets/budgets/inspect/{world.budget.pk}/").content.decode()
    assert world.budget.wallet.code in inspect and "2000" in inspect.replace(",", "")
    read_only(client, "budgets", world.budget.pk)


def test_allocations_are_listed_by_state_and_inspected_but_never_changed(client, staff, world):
    world.give_budget(amount="2000.00", allocate="500.00")
    allocation = Allocation.objects.get()
    page = client.get("/cms/personal-budgets/allocations/?state=made").content.decode()
    assert "500" in page
    inspect = client.get(f"/cms/personal-budgets/allocations/inspect/{allocation.pk}/").content.decode()
    assert str(allocation.transfer_id) in inspect
    read_only(client, "allocations", allocation.pk)
    assert Allocation.objects.get().amount == allocation.amount


def test_every_plan_version_is_listed_and_inspected_with_its_rules(
    client, staff, world, django_assert_max_num_queries
):
    world.give_budget(allocate="500.00", item_cap="300.00")
    world.agree(item_cap="450.00", approval_products=[world.wheelchair.product])
    world.agree(item_cap="500.00")
    with django_assert_max_num_queries(25):
        page = client.get("/cms/personal-budgets/plans/?q=Pat").content.decode()
    assert all(cap in page for cap in ("300", "450", "500"))
    version_two = SupportPlan.objects.get(version=2)
    inspect = client.get(f"/cms/personal-budgets/plans/inspect/{version_two.pk}/").content.decode()
    assert "Mobility" in inspect and "Self-propelled wheelchair" in inspect
    read_only(client, "plans", version_two.pk)


def test_staff_without_the_view_permission_see_nothing(client, world):
    world.give_budget(allocate="100.00")
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/cms/personal-budgets/budgets/").status_code in {302, 403}
