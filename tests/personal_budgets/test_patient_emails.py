"""Pat and Casey (her carer) are told of each step of her order by email, in plain English: placed,
waiting for her care coordinator, a yes or a no (with the reason), the shop's no (with its reason),
on its way, and money back for something she sent back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from organisations import services as org_services
from personal_budgets import services
from purchasing import services as purchasing
from tests.organisations.factories import UserFactory
from tests.personal_budgets.readability import flesch_reading_ease
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world):
    """Pat with £500 and a plan capping one item at £300; Casey cares for her."""
    world.give_budget(allocate="500.00", item_cap="300.00")
    world.casey = UserFactory(full_name="Casey Carer", email="casey@example.org")
    org_services.carer_link_create(patient=world.patient, carer=world.casey, actor=world.patient.user)
    return world


def told(world) -> list[tuple[str, list[str], str]]:
    """(subject, recipients, body) of each email to Pat and Casey (one message each), then forget
    them."""
    people = {world.patient.user.email, world.casey.email}
    found: dict[tuple[str, str], list[str]] = {}
    for message in mail.outbox:
        if set(message.to) & people:
            found.setdefault((message.subject, message.body), []).extend(message.to)
    mail.outbox.clear()
    return [(subject, sorted(to), body) for (subject, body), to in found.items()]


def both(world) -> list[str]:
    return sorted([world.patient.user.email, world.casey.email])


def test_pat_and_casey_hear_when_the_order_is_placed_and_when_it_is_on_its_way(
    family, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = family.buy(family.walking_frame, actor=family.casey).order
    ((subject, to, body),) = told(family)
    assert subject == f"We have your order {order.number}" and to == both(family)
    assert "£60.00" in body and f"/budgets/orders/{order.pk}/" in body

    shop = acting(family.supplier)
    with django_capture_on_commit_callbacks(execute=True):
        purchasing.order_acknowledge(
            order=order,
            actor=family.supplier_staff,
            acting=shop,
            expected_delivery=timezone.localdate() + dt.timedelta(days=2),
        )
        purchasing.order_dispatch(
            order=order, actor=family.supplier_staff, acting=shop, tracking_reference="RM123"
        )
    ((subject, to, body),) = told(family)
    assert subject == f"Your order {order.number} is on its way" and to == both(family)
    assert "RM123" in body


def test_an_order_waiting_for_the_coordinator_then_a_yes(family, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = family.buy(family.wheelchair)  # £400: over the £300 cap, so the coordinator checks
    ((subject, to, body),) = told(family)
    assert subject == f"Your order {result.order.number} is waiting for your care coordinator"
    assert to == both(family) and "put aside" in body

    with django_capture_on_commit_callbacks(execute=True):
        services.spend_approve(spend=result.spend, actor=family.coordinator, note="Enjoy it")
    ((subject, _, body),) = told(family)
    assert subject == f"Your care coordinator said yes to order {result.order.number}"
    assert "Enjoy it" in body


def test_a_no_from_the_coordinator_or_the_shop_says_why(family, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        waiting = family.buy(family.wheelchair)
        sent = family.buy(family.walking_frame)
    told(family)
    with django_capture_on_commit_callbacks(execute=True):
        services.spend_decline(spend=waiting.spend, actor=family.coordinator, reason="Try the lighter one")
    ((subject, _, body),) = told(family)
    assert subject == f"Your care coordinator said no to order {waiting.order.number}"
    assert "Try the lighter one" in body and "back in your budget" in body

    with django_capture_on_commit_callbacks(execute=True):
        purchasing.order_supplier_reject(
            order=sent.order,
            actor=family.supplier_staff,
            acting=acting(family.supplier),
            reason="Out of stock",
        )
    ((subject, _, body),) = told(family)
    assert subject == f"{family.supplier.name} cannot send order {sent.order.number}"
    assert "Out of stock" in body


def test_a_carer_whose_grant_ended_is_not_told_and_the_words_are_plain(
    family, django_capture_on_commit_callbacks
):
    link = family.casey.carer_links.get()
    org_services.carer_link_delete(link=link, actor=family.patient.user)
    with django_capture_on_commit_callbacks(execute=True):
        order = family.buy(family.walking_frame).order
    ((_, to, body),) = told(family)
    assert to == [family.patient.user.email]
    words = body.split("See your order")[0].replace(order.number, "it").replace(family.supplier.name, "it")
    assert flesch_reading_ease(words) >= 80
