"""Pat sends back a walking frame she bought with her budget: she (or her carer) asks, the shop
accepts when it has the frame back, and the money goes back into her wallet through the ledger,
once, however often the shop presses accept. The shop may say no, with the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from common.audit import AuditEvent
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from ledger.models import Transfer
from ledger.selectors import balance, invariants_check
from organisations import services as org_services
from organisations.models import Role
from personal_budgets import selectors as budget_selectors
from personal_budgets.models import Refund
from purchasing import services as purchasing
from purchasing.models import OrderEvent, OrderLine, OrderReturn, ReturnState
from purchasing.returns import services as returns
from purchasing.returns.selectors import returnable_lines
from tests.organisations.factories import PatientProfileFactory, SupplierFactory, UserFactory, member
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db


def wallet(world) -> int:
    return balance(world.budget.wallet_id).posted


def delivered(world, packs: int = 2, dispatch: int | None = None):
    """Pat buys `packs` £60 walking frames; the shop accepts the order and sends them (or some)."""
    world.give_budget(amount="1000.00", allocate="1000.00")
    order = world.buy(world.walking_frame, packs).order
    shop = acting(world.supplier)
    purchasing.order_acknowledge(
        order=order,
        actor=world.supplier_staff,
        acting=shop,
        expected_delivery=timezone.localdate() + dt.timedelta(days=2),
    )
    line = order.lines.get()
    quantities = None if dispatch is None else {line.pk: dispatch}
    purchasing.order_dispatch(
        order=order, actor=world.supplier_staff, acting=shop, tracking_reference="TRK1", quantities=quantities
    )
    order.refresh_from_db()
    return order, line


def ask(world, order, line, packs=1, *, actor=None, key="return-1", reason="It is too big for my hall."):
    return returns.return_request(
        order=order,
        actor=actor or world.patient.user,
        line=line.pk,
        packs=packs,
        reason=reason,
        idempotency_key=key,
    )


def accept(world, found, *, actor=None):
    return returns.return_accept(
        order_return=found, actor=actor or world.supplier_staff, acting=acting(world.supplier)
    )


def test_pat_sends_back_one_of_two_frames_and_the_shop_gives_60_pounds_back_once(world):
    order, line = delivered(world)
    assert wallet(world) == 100000 - 12000

    found, created = ask(world, order, line)
    assert created and found.state == ReturnState.REQUESTED
    assert wallet(world) == 88000  # nothing back until the shop has it

    accepted, first = accept(world, found)
    again, second = accept(world, found)  # a double press, a retried request

    assert first and not second and accepted.pk == again.pk
    assert accepted.state == ReturnState.ACCEPTED and accepted.refund_amount == Decimal("60.00")
    assert wallet(world) == 94000
    refund = Refund.objects.get()
    assert refund.key == f"return:{found.pk}" and refund.amount == Decimal("60.00")
    assert Transfer.objects.filter(code="refund").count() == 1
    assert OrderLine.objects.get(pk=line.pk).packs_returned == 1
    steps = list(order.events.values_list("transition", flat=True))
    assert steps[-2:] == ["return_request", "return_accept"]
    assert AuditEvent.objects.filter(kind="purchasing.return_accepted", subject=order.number).count() == 1
    rows = budget_selectors.statement_rows(budget=world.budget)
    assert (f"Money back for order {order.number}", Decimal("60.00")) in [
        (r.what, r.money_in and r.money_in.amount) for r in rows
    ]
    assert invariants_check() == []


def test_asking_twice_with_the_same_key_is_one_return(world):
    order, line = delivered(world)
    first, created = ask(world, order, line)
    again, again_created = ask(world, order, line)
    assert created and not again_created and first.pk == again.pk
    assert OrderReturn.objects.count() == 1


def test_never_more_than_was_sent_less_what_is_already_going_back(world):
    order, line = delivered(world, packs=3, dispatch=2)
    ask(world, order, line, packs=1, key="a")

    with pytest.raises(DomainError) as refused:
        ask(world, order, line, packs=2, key="b")
    assert refused.value.field == "packs" and refused.value.code == "too_many"
    assert "at most 1" in refused.value.message
    [item] = returnable_lines(order=order)
    assert item.packs == 1

    accept(world, OrderReturn.objects.get())
    ask(world, order, line, packs=1, key="c")
    with pytest.raises(DomainError) as none_left:
        ask(world, order, line, packs=1, key="d")
    assert none_left.value.field == "packs"
    assert returnable_lines(order=order) == []


def test_a_whole_line_sent_back_in_parts_gives_back_exactly_what_it_cost(world):
    world.give_budget(amount="1000.00", allocate="1000.00")
    offer = world.walking_frame
    offer.pack_price = Decimal("10.00")
    offer.save()
    order, line = None, None
    order = world.buy(offer, 3).order
    shop = acting(world.supplier)
    purchasing.order_acknowledge(
        order=order, actor=world.supplier_staff, acting=shop, expected_delivery=timezone.localdate()
    )
    purchasing.order_dispatch(order=order, actor=world.supplier_staff, acting=shop, tracking_reference="T")
    line = order.lines.get()
    # A line total that three packs do not divide evenly.
    OrderLine.objects.filter(pk=line.pk).update(line_total=Decimal("10.00"))
    amounts = []
    for n in range(3):
        found, _ = ask(world, order, line, key=f"k{n}")
        amounts.append(accept(world, found)[0].refund_amount)
    assert amounts == [Decimal("3.33"), Decimal("3.34"), Decimal("3.33")]
    assert sum(amounts) == Decimal("10.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"packs": 0}, "packs"),
        ({"packs": "1"}, "packs"),
        ({"packs": True}, "packs"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"key": ""}, "idempotency_key"),
        ({"key": "k" * 101}, "idempotency_key"),
    ],
)
def test_bad_input_is_refused_naming_the_field(world, change, field):
    order, line = delivered(world)
    arguments = {"packs": 1, "reason": "Broken", "key": "k", **change}
    with pytest.raises(DomainError) as refused:
        ask(world, order, line, **arguments)
    assert refused.value.field == field
    assert not OrderReturn.objects.exists()


def test_a_line_of_another_order_or_not_sent_yet_is_refused_naming_the_line(world):
    order, _line = delivered(world, packs=2, dispatch=1)
    other = world.buy(world.walking_frame, 1).order
    with pytest.raises(DomainError) as refused:
        ask(world, order, other.lines.get())
    assert refused.value.field == "line"
    with pytest.raises(Conflict) as not_sent:
        ask(world, other, other.lines.get())
    assert not_sent.value.field == "line" and not_sent.value.code == "not_dispatched"


def test_a_carer_pat_granted_may_ask_for_her_and_both_are_emailed_the_refund(
    world, django_capture_on_commit_callbacks
):
    order, line = delivered(world)
    casey = UserFactory(full_name="Casey Carer", email="casey@example.com")
    org_services.carer_link_create(patient=world.patient, carer=casey, actor=world.patient.user)
    found, _ = ask(world, order, line, actor=casey)
    assert found.requested_by == casey

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        accept(world, found)
    to_patient = [m for m in mail.outbox if "back in your budget" in m.subject]
    assert sorted(a for m in to_patient for a in m.to) == sorted([world.patient.user.email, casey.email])
    assert "£60.00" in to_patient[0].subject and order.number in to_patient[0].body


def test_the_shop_is_emailed_when_a_return_is_asked_for(world, django_capture_on_commit_callbacks):
    order, line = delivered(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ask(world, order, line)
    assert [m.to for m in mail.outbox] == [[world.supplier_staff.email]]
    assert "Return asked for" in mail.outbox[0].subject


def test_the_shop_may_say_no_with_the_reason_and_no_money_moves(world, django_capture_on_commit_callbacks):
    order, line = delivered(world)
    found, _ = ask(world, order, line)
    mail.outbox.clear()
    with pytest.raises(DomainError) as no_reason:
        returns.return_refuse(
            order_return=found, actor=world.supplier_staff, acting=acting(world.supplier), reason=""
        )
    assert no_reason.value.field == "reason"
    with django_capture_on_commit_callbacks(execute=True):
        refused, _ = returns.return_refuse(
            order_return=found,
            actor=world.supplier_staff,
            acting=acting(world.supplier),
            reason="The frame was used outdoors.",
        )
    assert refused.state == ReturnState.REFUSED and refused.decision_note == "The frame was used outdoors."
    assert wallet(world) == 88000 and not Refund.objects.exists()
    assert "The frame was used outdoors." in mail.outbox[0].body
    with pytest.raises(Conflict) as decided:
        accept(world, found)
    assert decided.value.field == "state"
    # A refused return no longer counts: both frames may be asked for again.
    assert returnable_lines(order=order)[0].packs == 2


def test_another_patient_and_another_shop_find_nothing(world):
    order, line = delivered(world)
    stranger = PatientProfileFactory().user
    with pytest.raises(NotFound):
        ask(world, order, line, actor=stranger)
    found, _ = ask(world, order, line)
    other_shop = SupplierFactory()
    with pytest.raises(NotFound):
        returns.return_accept(
            order_return=found, actor=member(Role.SUPPLIER_ADMIN, other_shop), acting=acting(other_shop)
        )
    # Someone of the right shop without its roles (acting for it by mistake) is refused.
    with pytest.raises(PermissionDenied):
        returns.return_accept(order_return=found, actor=world.patient.user, acting=acting(world.supplier))
    assert OrderReturn.objects.get().state == ReturnState.REQUESTED and wallet(world) == 88000


def test_the_timeline_names_the_return_steps(world):
    order, line = delivered(world)
    found, _ = ask(world, order, line)
    accept(world, found)
    headings = [e.heading for e in OrderEvent.objects.filter(order=order).order_by("id")]
    assert headings[-2:] == ["Return asked for", "Return accepted: money given back"]
