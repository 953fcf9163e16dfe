"""The care coordinator writes and revises a support plan on the page; each revision is a new
version, the history stays and is shown, and a version is used only once the patient (or a carer
they chose) agrees it on their budget page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from organisations import services as org_services
from organisations.acting import PATIENT_SESSION_KEY
from organisations.models import Role
from personal_budgets import selectors
from personal_budgets.models import SupportPlan
from tests.organisations.factories import CommissionerFactory, UserFactory, member
from tests.personal_budgets.readability import flesch_reading_ease, main_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client, world):
    world.give_budget(allocate="1000.00", item_cap="300.00")
    client.force_login(world.coordinator)
    return client


def plan_form(world, **changes) -> dict:
    form = {
        "categories": [world.mobility.pk],
        "item_cap": "450.00",
        "over_cap_with_approval": "on",
        "period_cap": "800.00",
        "cap_period_months": "12",
        "approval_categories": [world.walking_aids.pk],
        "approval_products": [world.wheelchair.product.pk],
        "notes": "A chair and a frame.",
        "request_key": "plan-page-1",
    }
    return {k: v for k, v in {**form, **changes}.items() if v is not None}


def test_the_coordinator_revises_the_plan_and_the_patient_agrees_it(coordinator_client, client, world):
    people = coordinator_client.get(reverse("personal_budgets:coordinator")).content.decode()
    assert reverse("personal_budgets:plan", args=[world.budget.pk]) in people and "Version 1" in people
    write = reverse("personal_budgets:plan-write", args=[world.budget.pk])
    page = coordinator_client.get(write).content.decode()
    assert "Write version 2 of the plan" in page and 'value="300.00"' in page  # starts from version 1
    assert f'value="{world.mobility.pk}" id="id_categories_1" checked>' in page

    response = coordinator_client.post(write, plan_form(world))
    assert response.url == reverse("personal_budgets:plan", args=[world.budget.pk])
    written = SupportPlan.objects.get(budget=world.budget, version=2)
    assert written.item_cap == Decimal("450.00") and written.period_cap == Decimal("800.00")
    assert list(written.approval_categories.all()) == [world.walking_aids]
    assert list(written.approval_products.all()) == [world.wheelchair.product]
    assert not written.is_agreed and selectors.current_plan(budget=world.budget) == world.plan

    history = coordinator_client.get(response.url).content.decode()
    assert "Version 2: waiting for the patient to agree" in history and "Version 1: in use" in history

    client.force_login(world.patient.user)
    home = client.get(reverse("personal_budgets:home")).content.decode()
    assert "Your new plan is ready" in home and "£450.00" in home and "£800.00" in home
    client.post(reverse("personal_budgets:plan-agree"))
    assert selectors.current_plan(budget=world.budget) == written

    client.force_login(world.coordinator)
    history = client.get(response.url).content.decode()
    assert "Version 2: in use" in history and "Version 1: replaced" in history
    assert f"Agreed by {world.patient.user.full_name}" in history


def test_a_second_press_writes_one_version(coordinator_client, world):
    write = reverse("personal_budgets:plan-write", args=[world.budget.pk])
    coordinator_client.post(write, plan_form(world))
    coordinator_client.post(write, plan_form(world))
    assert SupportPlan.objects.filter(budget=world.budget).count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"categories": None}, "categories", "required"),
        ({"item_cap": "0"}, "item_cap", "more than £0"),
        ({"item_cap": "900.00"}, "item_cap", "at most the cap per period"),
        ({"period_cap": "1.001"}, "period_cap", "decimal places"),
        ({"cap_period_months": "0"}, "cap_period_months", "greater than or equal to 1"),
        ({"cap_period_months": "121"}, "cap_period_months", "less than or equal to 120"),
        ({"categories": ["999999"]}, "categories", "valid choice"),
    ],
)
def test_a_plan_with_a_bad_value_is_refused_on_its_field(coordinator_client, world, changes, field, says):
    write = reverse("personal_budgets:plan-write", args=[world.budget.pk])
    response = coordinator_client.post(write, plan_form(world, **changes))
    errors = str({name: list(messages) for name, messages in response.context["form"].errors.items()})
    assert field in errors and says in errors, errors
    assert SupportPlan.objects.filter(budget=world.budget).count() == 1


def test_a_carer_the_patient_chose_agrees_the_plan_for_them(client, world):
    world.give_budget(allocate="100.00")
    carer = UserFactory(full_name="Casey Patel")
    org_services.carer_link_create(patient=world.patient, carer=carer, actor=world.patient.user)
    client.force_login(world.coordinator)
    client.post(reverse("personal_budgets:plan-write", args=[world.budget.pk]), plan_form(world))
    client.force_login(carer)
    session = client.session
    session[PATIENT_SESSION_KEY] = world.patient.pk
    session.save()
    client.post(reverse("personal_budgets:plan-agree"))
    agreed = selectors.current_plan(budget=world.budget)
    assert agreed.version == 2 and agreed.patient_agreed_by == carer


def test_the_plan_pages_are_the_patients_own_coordinators_at_the_icb_they_act_for(client, world):
    world.give_budget(allocate="100.00")
    pages = [
        reverse("personal_budgets:plan", args=[world.budget.pk]),
        reverse("personal_budgets:plan-write", args=[world.budget.pk]),
    ]
    for outsider in (
        member(Role.CARE_COORDINATOR, world.icb),  # a colleague, not this patient's coordinator
        member(Role.CARE_COORDINATOR, CommissionerFactory()),
        world.manager,
        world.patient.user,
    ):
        client.force_login(outsider)
        assert [client.get(page).status_code for page in pages] == [404, 404]
        assert client.post(pages[1], plan_form(world)).status_code == 404
    assert SupportPlan.objects.filter(budget=world.budget).count() == 1


def test_the_new_plan_on_the_patients_page_reads_at_about_age_nine(coordinator_client, client, world):
    coordinator_client.post(
        reverse("personal_budgets:plan-write", args=[world.budget.pk]), plan_form(world, notes="")
    )
    client.force_login(world.patient.user)
    text = main_text(client.get(reverse("personal_budgets:home")).content.decode())
    for name in (world.wheelchair.product.name, "Pat Patel", "Personal wheelchair budget"):
        text = text.replace(name, "it")
    assert flesch_reading_ease(text) >= 80
