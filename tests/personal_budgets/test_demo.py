"""The demo personal budgets: every demo patient has a budget, a plan and history; the coordinator
has a queue; seeding again changes nothing."""

from __future__ import annotations

import io

import pytest

from catalogue import demo as catalogue_demo
from ledger.models import Transfer
from ledger.selectors import invariants_check
from organisations import demo as organisations_demo
from organisations.acting import Acting
from organisations.models import Organisation, PatientProfile, User
from personal_budgets import demo, selectors
from personal_budgets.models import Budget, SpendState
from purchasing.models import OrderEvent, OrderReturn, PurchaseOrder
from purchasing.returns.selectors import returnable_lines, supplier_returns
from purchasing.states import OrderState

pytestmark = pytest.mark.django_db


def test_each_demo_patient_has_a_budget_plan_and_history_and_seeding_again_changes_nothing():
    organisations_demo.seed(io.StringIO())
    catalogue_demo.seed(io.StringIO())
    demo.seed(io.StringIO())

    for patient in PatientProfile.objects.all():
        budget = selectors.current_budget(patient=patient)
        assert budget is not None, patient
        assert selectors.current_plan(budget=budget) is not None
        assert selectors.wallet_lines(budget=budget), patient
        assert budget.spends.exists()
    pat = PatientProfile.objects.get(user__email="patient1@demo.example")
    assert pat.carer_links.exists()
    pats = selectors.current_budget(patient=pat)
    assert pats.name == "Personal wheelchair budget"
    assert [p.version for p in selectors.plan_versions(budget=pats)] == [2, 1]  # the history kept
    assert [a.state for a in selectors.budget_allocations(budget=pats)] == ["made"] + ["scheduled"] * 4
    coordinator = User.objects.get(email=demo.COORDINATOR)
    waiting = list(selectors.coordinator_queue(user=coordinator))
    assert [s.budget.patient for s in waiting] == [pat]
    assert Budget.objects.filter(spends__state=SpendState.RELEASED, spends__decision_reason__gt="").exists()
    assert invariants_check() == []

    # Pat can send her walking frame back; Pennine has Kim's return waiting for its answer.
    frame = PurchaseOrder.objects.get(checkout__key="demo-pat-frame")
    assert frame.state == OrderState.DISPATCHED and returnable_lines(order=frame)
    pennine = Organisation.objects.get(slug=demo.SUPPLIER)
    shop = Acting(organisation=pennine, explicit=True, kind=pennine.kind)
    [waiting_return] = supplier_returns(acting=shop)
    assert waiting_return.order.patient.user.email == "patient3@demo.example"
    assert not OrderEvent.objects.filter(notified_at__isnull=True).exists()  # nobody emailed

    transfers = Transfer.objects.count()
    demo.seed(io.StringIO())
    assert Transfer.objects.count() == transfers and Budget.objects.count() == 3
    assert OrderReturn.objects.count() == 1

    manager = User.objects.get(email=demo.MANAGER)
    report = selectors.commissioner_report(commissioner=pat.commissioner)
    assert report.ending_soon and report.by_supplier and report.unspent.amount > 0
    assert selectors.budgets_for(manager).count() == 3
