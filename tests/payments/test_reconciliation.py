"""Reconciliation: every card payment beside Stripe's state (read through the library) and the
ledger's view (a source the shop registers); any difference is flagged, the command exits 1, and
finance staff see the same on a back-office page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from payments import selectors
from payments.models import Refund
from payments.registry import (
    reconciliation_sources,
    register_reconciliation_source,
    unregister_reconciliation_source,
)
from payments.states import PaymentState, RefundState
from payments.types import LedgerFigure
from tests.organisations.factories import UserFactory
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import charge, payment_intent, refund

pytestmark = pytest.mark.django_db
INTENTS = "/v1/payment_intents"


@pytest.fixture
def ledger_view():
    """The books as personal_budgets will give them: card money received and refunded per payment."""
    figures: dict[int, LedgerFigure] = {}

    def source(payments):
        return {p.pk: figures[p.pk] for p in payments if p.pk in figures}

    # The shop's own source (personal_budgets.topups) stands in for the ledger when installed: put
    # it back afterwards, so later tests in this process reconcile against the real books.
    before = reconciliation_sources().get("ledger")
    register_reconciliation_source(source)
    yield figures
    unregister_reconciliation_source()
    if before is not None:
        register_reconciliation_source(before)


def stripe_sees(stripe_http, payment, status, *, refunded=0, refunds=None):
    """Stripe's answers for one payment: the PaymentIntent and, when it took money, its refunds (one
    of `refunded` pence unless `refunds` lists them as (number, amount, status): id re_<stem>r<number>)."""
    intent = payment_intent(id=payment.provider_id, amount=payment.amount_pence, status=status)
    if status == "succeeded":
        intent["latest_charge"] = charge(intent, amount_refunded=refunded)
    stripe_http.answer("GET", f"{INTENTS}/{payment.provider_id}", intent)
    if status == "succeeded":
        if refunds is None:
            refunds = [(1, refunded, "succeeded")] if refunded else []
        listed = [refund(intent, amount, number=n, status=state) for n, amount, state in refunds]
        stripe_http.answer("GET", "/v1/refunds", {"object": "list", "data": listed, "has_more": False})
    return intent


def run(capsys, *args) -> tuple[int, str]:
    try:
        call_command("payments_reconcile", *args)
    except SystemExit as exit_:
        return exit_.code, capsys.readouterr().out
    return 0, capsys.readouterr().out


def test_payments_that_agree_everywhere_pass(stripe_http, ledger_view, capsys):
    paid = PaymentFactory(
        state=PaymentState.PARTIALLY_REFUNDED, amount_pence=8000, amount_refunded_pence=1000
    )
    waiting = PaymentFactory()
    Refund.objects.create(
        payment=paid,
        amount_pence=1000,
        idempotency_key="cushion",
        provider_id=f"re_{paid.provider_id[3:]}r1",
        state=RefundState.SUCCEEDED,
    )
    ledger_view[paid.pk] = LedgerFigure(paid_pence=8000, refunded_pence=1000, refunds={"cushion": 1000})
    stripe_sees(stripe_http, paid, "succeeded", refunded=1000)
    stripe_sees(stripe_http, waiting, "requires_payment_method")

    code, out = run(capsys)

    assert code == 0
    assert "2 card payment(s), 0 with a difference." in out
    intents = [r for r in stripe_http.requests if r.path.startswith(INTENTS)]
    assert {r.params.get("expand[0]") for r in intents} == {"latest_charge"}
    [listed] = stripe_http.requests_to("GET", "/v1/refunds")  # only the payment that took money
    assert listed.params["payment_intent"] == paid.provider_id
    assert all(r.method == "GET" and r.idempotency_key is None for r in stripe_http.requests)


def test_a_missed_webhook_and_a_ledger_that_disagrees_are_flagged_and_the_command_fails(
    stripe_http, ledger_view, capsys
):
    missed = PaymentFactory(reference="order:missed")  # Stripe took the money; the webhook never came
    short = PaymentFactory(reference="order:short", state=PaymentState.SUCCEEDED, amount_pence=5000)
    ledger_view[short.pk] = LedgerFigure(paid_pence=4000)
    stripe_sees(stripe_http, missed, "succeeded")
    stripe_sees(stripe_http, short, "succeeded")

    code, out = run(capsys)

    assert code == 1
    assert "DIFF order:missed" in out and "Stripe says succeeded, we say created" in out
    assert "Stripe received 12500p, we expect 0p" in out
    assert "DIFF order:short" in out and "the ledger shows 4000p paid, we took 5000p" in out
    assert "2 card payment(s), 2 with a difference." in out


def test_a_paid_payment_the_ledger_does_not_know_is_flagged_without_asking_stripe(
    stripe_http, ledger_view, capsys
):
    PaymentFactory(reference="order:unbooked", state=PaymentState.SUCCEEDED)

    code, out = run(capsys, "--no-stripe")

    assert code == 1 and "the ledger has no record of it, we took 12500p" in out
    assert stripe_http.requests == []


def test_finance_staff_see_the_differences_in_the_back_office(client, stripe_http, ledger_view):
    missed = PaymentFactory(reference="order:missed")
    stripe_sees(stripe_http, missed, "succeeded")
    finance = Group.objects.create(name="Finance")
    finance.permissions.add(
        Permission.objects.get(codename="access_admin"), Permission.objects.get(codename="view_payment")
    )
    person = UserFactory(email="finance@marketplace.example", is_staff=True)
    person.groups.add(finance)
    client.force_login(person)

    before = client.get("/cms/payments/reconciliation/")
    assert before.status_code == 200 and "order:missed" in before.content.decode()
    assert "not asked" in before.content.decode() and stripe_http.requests == []  # only on the button

    page = client.get("/cms/payments/reconciliation/?stripe=1").content.decode()

    assert "Stripe says succeeded, we say created" in page and "1 with a difference" in page
    assert client.get("/cms/payments/payments/").status_code == 200
    assert client.get(f"/cms/payments/payments/inspect/{missed.pk}/").status_code == 200
    assert (
        missed.client_secret
        not in client.get(f"/cms/payments/payments/inspect/{missed.pk}/").content.decode()
    )
    assert client.get("/cms/payments/payments/new/").status_code in {302, 403}


def test_the_page_is_refused_to_staff_without_the_payments_permission(client, stripe_http):
    editors = Group.objects.create(name="Content only")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    person = UserFactory(email="editor@marketplace.example", is_staff=True)
    person.groups.add(editors)
    client.force_login(person)

    assert client.get("/cms/payments/reconciliation/").status_code in {302, 403}


def test_the_page_lists_many_payments_in_a_fixed_number_of_queries(
    client, stripe_http, ledger_view, django_assert_max_num_queries
):
    PaymentFactory.create_batch(30)
    client.force_login(UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True))
    client.get("/cms/payments/reconciliation/")

    with django_assert_max_num_queries(12):
        assert client.get("/cms/payments/reconciliation/").status_code == 200


def test_reconciliation_without_keys_compares_the_books_only(settings, ledger_view):
    settings.STRIPE_SECRET_KEY = None
    paid = PaymentFactory(state=PaymentState.SUCCEEDED)
    ledger_view[paid.pk] = LedgerFigure(paid_pence=paid.amount_pence)

    [line] = selectors.reconciliation()

    assert line.stripe is None and line.ok


def test_each_refund_is_shown_with_stripes_state_and_the_ledgers_and_differences_are_flagged(
    client, stripe_http, ledger_view, capsys
):
    paid = PaymentFactory(
        state=PaymentState.PARTIALLY_REFUNDED, amount_pence=10000, amount_refunded_pence=3000
    )
    stem = paid.provider_id[3:]

    def ours(key, amount, number, state=RefundState.SUCCEEDED):
        return Refund.objects.create(
            payment=paid,
            amount_pence=amount,
            idempotency_key=key,
            provider_id=f"re_{stem}r{number}",
            state=state,
        )

    ours("agrees", 1000, 1)
    ours("failed-at-stripe", 2000, 2)
    ours("pending", 500, 3, state=RefundState.PENDING)
    ledger_view[paid.pk] = LedgerFigure(
        paid_pence=10000,
        refunded_pence=3000,
        refunds={"agrees": 1000, "failed-at-stripe": 2000, "pending": 400, "never-made": 700},
    )
    stripe_sees(
        stripe_http,
        paid,
        "succeeded",
        refunded=3000,
        refunds=[
            (1, 1000, "succeeded"),
            (2, 2000, "failed"),
            (3, 500, "pending"),
            (9, 2000, "succeeded"),  # made in Stripe's dashboard
        ],
    )

    [line] = selectors.reconciliation([paid])

    by_key = {r.key: r for r in line.refunds}
    assert by_key["agrees"].ok and by_key["agrees"].books == {"ledger": 1000}
    assert by_key["agrees"].stripe.status == "succeeded"
    assert by_key["failed-at-stripe"].differences == (
        f"refund re_{stem}r2: Stripe says failed, we say succeeded",
    )
    assert by_key["pending"].differences == (
        f"refund re_{stem}r3: the ledger gave back 400p, the refund is 500p",
    )
    assert by_key["never-made"].differences == (
        "refund never-made: the ledger gave back 700p but no refund was made",
    )
    [dashboard] = [r for r in line.refunds if r.refund is None and r.stripe is not None]
    assert dashboard.differences == (
        f"refund re_{stem}r9: Stripe refunded 2000p (succeeded) that we have no record of",
        f"refund re_{stem}r9: the ledger has no record of it (2000p)",
    )
    assert not line.ok and all(d in line.differences for r in line.refunds for d in r.differences)

    stripe_sees(stripe_http, paid, "succeeded", refunded=3000, refunds=[(1, 1000, "succeeded")])
    client.force_login(UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True))
    page = client.get("/cms/payments/reconciliation/?stripe=1").content.decode()
    assert "key agrees" in page and "ledger: gave back 700p" in page
    assert f"refund re_{stem}r2: Stripe has no such refund" in page


def test_without_stripe_the_refunds_are_compared_with_the_ledger_only(settings, ledger_view):
    settings.STRIPE_SECRET_KEY = None
    paid = PaymentFactory(
        state=PaymentState.PARTIALLY_REFUNDED, amount_pence=10000, amount_refunded_pence=1000
    )
    Refund.objects.create(
        payment=paid, amount_pence=1000, idempotency_key="gone", provider_id="re_x1", state=RefundState.FAILED
    )
    ledger_view[paid.pk] = LedgerFigure(paid_pence=10000, refunded_pence=1000, refunds={"gone": 1000})

    [line] = selectors.reconciliation()

    [refund_line] = line.refunds
    assert refund_line.stripe is None
    assert refund_line.differences == (
        "refund re_x1: the ledger gave back 1000p but the refund did not happen",
    )
