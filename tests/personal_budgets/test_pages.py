"""The patient's, the care coordinator's and the commissioner's pages."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from ledger.selectors import account_statement, balance
from organisations import services as org_services
from organisations.acting import PATIENT_SESSION_KEY
from organisations.models import Role
from personal_budgets.models import SpendState
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, UserFactory, member
from tests.personal_budgets.readability import flesch_reading_ease, main_text, syllables

pytestmark = pytest.mark.django_db

# Reading age about 9: Flesch reading ease 80 or more ("easy") on every patient page.
EASY = 80


@pytest.fixture
def patient_client(client, world):
    world.give_budget(allocate="500.00", item_cap="300.00")
    client.force_login(world.patient.user)
    return client


def buy_form(client, world, offer, key="tab-1", quantity=1):
    return client.post(
        reverse("personal_budgets:buy", args=[offer.pk]),
        {
            "quantity": quantity,
            "name": "Pat Patel",
            "address": "1 Example Road",
            "postcode": "LS1 1AA",
            "request_key": key,
        },
    )


def test_the_syllable_counter_counts_plain_words():
    assert [syllables(w) for w in ["shop", "money", "budget", "remember", "wheelchair", "care"]] == [
        1,
        2,
        2,
        3,
        2,
        1,
    ]
    assert flesch_reading_ease("You have money left. Go to the shop.") > 90


def test_the_shop_shows_what_the_plan_allows_and_what_is_left(
    patient_client, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30):
        page = patient_client.get(reverse("personal_budgets:shop"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Folding walking frame" in html and "Self-propelled wheelchair" in html
    assert "Kettle tipper" not in html  # outside the plan
    assert "£500.00" in html
    assert "We ask your care coordinator first" in html  # the £400 wheelchair is over the £300 cap


def test_the_patient_buys_within_budget_and_sees_the_order(patient_client, world):
    response = buy_form(patient_client, world, world.walking_frame)
    order = PurchaseOrder.objects.get(patient=world.patient)
    assert response.status_code == 302 and response["Location"] == reverse(
        "personal_budgets:order", args=[order.pk]
    )
    again = buy_form(patient_client, world, world.walking_frame)  # the same form sent twice
    assert again.status_code == 302 and PurchaseOrder.objects.filter(patient=world.patient).count() == 1
    page = patient_client.get(response["Location"])
    assert "Sent to the shop" in page.content.decode()
    assert balance(world.budget.wallet_id).available == 44000


def test_a_purchase_over_what_is_left_says_so_on_the_quantity(patient_client, world):
    response = buy_form(patient_client, world, world.walking_frame, quantity=9)
    html = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in html
    assert "your budget has £500.00 left" in html
    assert not PurchaseOrder.objects.exists()


def test_the_statement_matches_the_ledger_line_by_line_in_csv_and_pdf(patient_client, world):
    buy_form(patient_client, world, world.walking_frame)
    from tests.personal_budgets.test_money import acknowledge

    acknowledge(world, PurchaseOrder.objects.get())
    rows = list(
        csv.reader(
            io.StringIO(patient_client.get(reverse("personal_budgets:statement-csv")).content.decode())
        )
    )
    ledger_lines = account_statement(world.budget.wallet_id)
    assert (
        [row[4] for row in rows[1:]]
        == [f"{line.balance / 100:.2f}" for line in ledger_lines]
        == ["500.00", "440.00"]
    )
    assert rows[2][1].startswith("Paid for order QWO-PB-")
    pdf = patient_client.get(reverse("personal_budgets:statement-pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_patient_pages_read_at_about_age_nine(patient_client, world):
    buy_form(patient_client, world, world.wheelchair)
    order = PurchaseOrder.objects.get()
    pages = [
        reverse("personal_budgets:home"),
        reverse("personal_budgets:shop"),
        reverse("personal_budgets:buy", args=[world.walking_frame.pk]),
        reverse("personal_budgets:orders"),
        reverse("personal_budgets:order", args=[order.pk]),
        reverse("personal_budgets:statement"),
        reverse("personal_budgets:carers"),
    ]
    # Our copy is measured, not the names in it (products, suppliers, people, order numbers).
    names = [
        world.wheelchair.product.name,
        world.walking_frame.product.name,
        world.supplier.name,
        "Pat Patel",
    ]
    names.append(order.number)

    def copy(url: str) -> str:
        text = main_text(patient_client.get(url).content.decode())
        for name in names:
            text = text.replace(name, "it")
        return text

    scores = {url: round(flesch_reading_ease(copy(url))) for url in pages}
    assert all(score >= EASY for score in scores.values()), scores


def test_another_patients_order_is_a_404_to_patients_carers_and_other_icbs(client, world):
    world.give_budget(allocate="500.00")
    order = world.buy(world.walking_frame).order
    url = reverse("personal_budgets:order", args=[order.pk])
    stranger = PatientProfileFactory(commissioner=world.icb).user
    carer_of_stranger = UserFactory()
    org_services.carer_link_create(patient=stranger.patient_profile, carer=carer_of_stranger, actor=stranger)
    for outsider in (stranger, carer_of_stranger, member(Role.CARE_COORDINATOR, CommissionerFactory())):
        client.force_login(outsider)
        if outsider == carer_of_stranger:
            session = client.session
            session[PATIENT_SESSION_KEY] = stranger.patient_profile.pk
            session.save()
        assert client.get(url).status_code == 404, outsider
    client.force_login(world.patient.user)
    assert client.get(url).status_code == 200


def test_a_carer_acts_for_the_patient_they_chose(client, world):
    world.give_budget(allocate="500.00")
    carer = UserFactory(full_name="Casey Patel")
    org_services.carer_link_create(patient=world.patient, carer=carer, actor=world.patient.user)
    client.force_login(carer)
    assert "Choose who you are helping" in client.get(reverse("personal_budgets:shop")).content.decode()
    session = client.session
    session[PATIENT_SESSION_KEY] = world.patient.pk
    session.save()
    buy_form(client, world, world.walking_frame)
    assert PurchaseOrder.objects.get().buyer == carer


def test_the_patient_lets_a_carer_help_and_stops_it(patient_client, world):
    daughter = UserFactory(email="casey@example.org")
    response = patient_client.post(reverse("personal_budgets:carers"), {"email": "casey@example.org"})
    assert response.status_code == 302
    link = world.patient.carer_links.get()
    assert link.carer == daughter
    patient_client.post(reverse("personal_budgets:carers"), {"remove": link.pk})
    assert not world.patient.carer_links.exists()


def test_the_coordinator_approves_an_item_over_the_cap_from_the_queue(client, world):
    world.give_budget(allocate="1000.00", item_cap="300.00")
    spend = world.buy(world.wheelchair).spend
    client.force_login(world.coordinator)
    queue = client.get(reverse("personal_budgets:coordinator")).content.decode()
    assert "Self-propelled wheelchair" in queue and "Pat Patel" in queue
    response = client.post(
        reverse("personal_budgets:decide", args=[spend.pk]), {"decision": "decline", "reason": ""}
    )
    assert response.status_code == 200 and "There is a problem" in response.content.decode()
    response = client.post(
        reverse("personal_budgets:decide", args=[spend.pk]), {"decision": "approve", "reason": ""}
    )
    assert response.status_code == 302
    spend.refresh_from_db()
    assert spend.order.state == OrderState.SENT and spend.state == SpendState.HELD


def test_another_coordinator_cannot_open_the_decision(client, world):
    world.give_budget(allocate="1000.00", item_cap="300.00")
    spend = world.buy(world.wheelchair).spend
    client.force_login(member(Role.CARE_COORDINATOR, world.icb))
    assert client.get(reverse("personal_budgets:decide", args=[spend.pk])).status_code == 404


def test_the_commissioner_allocates_and_reads_the_report(client, world, django_assert_max_num_queries):
    world.give_budget(amount="2000.00", allocate="500.00")
    client.force_login(world.manager)
    assert "Pat Patel" in client.get(reverse("personal_budgets:commissioner")).content.decode()
    response = client.post(
        reverse("personal_budgets:allocate", args=[world.budget.pk]),
        {"amount": "250.00", "kind": "one_off", "request_key": "a1"},
    )
    assert response.status_code == 302
    assert balance(world.budget.wallet_id).posted == 75000
    refused = client.post(
        reverse("personal_budgets:allocate", args=[world.budget.pk]),
        {"amount": "5000.00", "kind": "one_off", "request_key": "a2"},
    )
    assert "more than the budget" in refused.content.decode()
    order = world.buy(world.walking_frame).order
    from tests.personal_budgets.test_money import acknowledge

    acknowledge(world, order)
    with django_assert_max_num_queries(40):
        report = client.get(reverse("personal_budgets:report")).content.decode()
    assert "<svg" in report and "Walking aids" in report and "Mobility Direct" in report
    rows = list(csv.reader(io.StringIO(client.get(reverse("personal_budgets:report-csv")).content.decode())))
    assert ["Spend by supplier", "Mobility Direct", "60.00", "", "", ""] in rows
    assert client.get(reverse("personal_budgets:report-pdf")).content.startswith(b"%PDF")


def test_another_icbs_budget_manager_sees_no_budget(client, world):
    world.give_budget(allocate="500.00")
    client.force_login(member(Role.BUDGET_MANAGER, CommissionerFactory()))
    assert client.get(reverse("personal_budgets:allocate", args=[world.budget.pk])).status_code == 404
    assert "Pat Patel" not in client.get(reverse("personal_budgets:commissioner")).content.decode()


def test_the_supplier_finds_a_patients_order_in_its_inbox_and_opens_it(client, world):
    world.give_budget(allocate="100.00")
    order = world.buy(world.walking_frame).order
    client.force_login(world.supplier_staff)
    inbox = client.get(reverse("purchasing:supplier-orders")).content.decode()
    assert order.number in inbox and "A patient (personal health budget)" in inbox
    page = client.get(reverse("purchasing:supplier-order", args=[order.pk])).content.decode()
    assert "1 Example Road" in page
    assert balance(world.budget.wallet_id).debits_pending == 6000
