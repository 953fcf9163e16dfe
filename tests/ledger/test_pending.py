"""Money held while an approval or a card payment is awaited, then posted, voided or expired exactly once."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from ledger import selectors, services, tasks
from ledger.models import Transfer, TransferKind, TransferState
from ledger.services import LedgerError
from tests.ledger.factories import SupplierPayableFactory, WalletFactory, allocate

pytestmark = pytest.mark.django_db


@pytest.fixture
def hold():
    """A wallet of £10 with £7 held for a supplier."""
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    pending = services.transfer_create(
        id=uuid.uuid4(),
        debit_account_id=wallet.pk,
        credit_account_id=supplier.pk,
        amount=700,
        code="purchase",
        reference="order:RR8-PO-000001",
        pending=True,
        timeout=datetime.timedelta(hours=1),
    )
    return wallet, supplier, pending


def test_posting_a_hold_pays_the_supplier_once(hold):
    wallet, supplier, pending = hold
    key = services.transfer_id("accepted", pending.pk)
    posted = services.pending_post(id=key, pending_id=pending.pk)
    assert posted.kind == TransferKind.POST_PENDING and posted.amount == 700
    assert posted.reference == "order:RR8-PO-000001"
    again = services.pending_post(id=key, pending_id=pending.pk)  # a retried request
    assert again.pk == posted.pk
    assert Transfer.objects.get(pk=pending.pk).state == TransferState.POSTED
    assert selectors.balance(wallet.pk) == selectors.balance(wallet.pk).__class__(700, 1_000, 0, 0)
    assert selectors.balance(supplier.pk).posted == 700
    with pytest.raises(LedgerError) as second:
        services.pending_post(id=uuid.uuid4(), pending_id=pending.pk)
    assert (second.value.code, second.value.field) == ("already_posted", "pending_id")
    assert selectors.invariants_check() == []


def test_a_post_may_take_less_than_was_held_and_releases_the_rest(hold):
    wallet, supplier, pending = hold
    services.pending_post(id=uuid.uuid4(), pending_id=pending.pk, amount=450)
    assert selectors.balance(wallet.pk).available == 550
    assert selectors.balance(supplier.pk).posted == 450
    assert selectors.invariants_check() == []


def test_a_post_cannot_take_more_than_was_held(hold):
    wallet, _, pending = hold
    with pytest.raises(LedgerError) as refused:
        services.pending_post(id=uuid.uuid4(), pending_id=pending.pk, amount=701)
    assert (refused.value.code, refused.value.field) == ("exceeds_pending_amount", "amount")
    assert Transfer.objects.get(pk=pending.pk).state == TransferState.PENDING
    assert selectors.balance(wallet.pk).debits_pending == 700


def test_voiding_a_hold_gives_the_money_back_and_a_later_post_is_refused(hold):
    wallet, supplier, pending = hold
    voided = services.pending_void(id=uuid.uuid4(), pending_id=pending.pk)
    assert voided.kind == TransferKind.VOID_PENDING
    assert selectors.balance(wallet.pk).available == 1_000
    assert selectors.balance(supplier.pk).posted == 0
    with pytest.raises(LedgerError) as refused:
        services.pending_post(id=uuid.uuid4(), pending_id=pending.pk)
    assert (refused.value.code, refused.value.field) == ("already_voided", "pending_id")


def test_a_void_after_a_post_is_refused(hold):
    wallet, _, pending = hold
    services.pending_post(id=uuid.uuid4(), pending_id=pending.pk)
    with pytest.raises(LedgerError) as refused:
        services.pending_void(id=uuid.uuid4(), pending_id=pending.pk)
    assert refused.value.code == "already_posted"
    assert selectors.balance(wallet.pk).posted == 300
    assert Transfer.objects.filter(pending_of=pending).count() == 1


def test_a_voids_id_used_again_for_a_post_is_refused(hold):
    _, _, pending = hold
    key = uuid.uuid4()
    services.pending_void(id=key, pending_id=pending.pk)
    with pytest.raises(LedgerError) as refused:
        services.pending_post(id=key, pending_id=pending.pk)
    assert refused.value.code == "id_reused"


def test_a_hold_past_its_timeout_expires_once_and_can_no_longer_be_posted(hold):
    wallet, _, pending = hold
    later = timezone.now() + datetime.timedelta(hours=2)
    assert services.pending_expire_due(now=timezone.now()) == 0  # not due yet
    assert services.pending_expire_due(now=later) == 1
    assert services.pending_expire_due(now=later) == 0
    assert Transfer.objects.get(pk=pending.pk).state == TransferState.EXPIRED
    assert Transfer.objects.get(pending_of=pending).kind == TransferKind.EXPIRE_PENDING
    assert selectors.balance(wallet.pk).available == 1_000
    with pytest.raises(LedgerError) as refused:
        services.pending_post(id=uuid.uuid4(), pending_id=pending.pk)
    assert refused.value.code == "expired"


def a_hold_already_due(wallet, supplier):
    return services.transfer_create(
        id=uuid.uuid4(),
        debit_account_id=wallet.pk,
        credit_account_id=supplier.pk,
        amount=200,
        code="top_up",
        pending=True,
        timeout=datetime.timedelta(microseconds=1),
    )


def test_the_beat_task_expires_what_is_due(hold, settings):
    wallet, supplier, pending = hold
    due = a_hold_already_due(wallet, supplier)
    assert settings.CELERY_BEAT_SCHEDULE["ledger-expire-pending"]["task"] == tasks.expire_pending.name
    assert tasks.expire_pending.delay().get() == 1
    assert Transfer.objects.get(pk=due.pk).state == TransferState.EXPIRED
    assert Transfer.objects.get(pk=pending.pk).state == TransferState.PENDING  # its hour is not up
    assert selectors.balance(wallet.pk).debits_pending == 700


def test_posting_after_the_timeout_is_refused_even_before_the_task_ran(hold):
    wallet, supplier, _ = hold
    due = a_hold_already_due(wallet, supplier)
    with pytest.raises(LedgerError) as refused:
        services.pending_post(id=uuid.uuid4(), pending_id=due.pk)
    assert refused.value.code == "expired"
    assert services.pending_expire_due() == 1
    assert selectors.invariants_check() == []


def test_posting_something_that_is_not_pending_is_refused(hold):
    wallet, _, _ = hold
    single = allocate(wallet, 5)
    for pending_id in (single.pk, uuid.uuid4()):
        with pytest.raises(LedgerError) as refused:
            services.pending_post(id=uuid.uuid4(), pending_id=pending_id)
        assert (refused.value.code, refused.value.field) == ("pending_not_found", "pending_id")


def test_holds_are_listed_until_resolved(hold):
    wallet, _, pending = hold
    assert [t.pk for t in selectors.account_holds(wallet.pk)] == [pending.pk]
    services.pending_void(id=uuid.uuid4(), pending_id=pending.pk)
    assert selectors.account_holds(wallet.pk) == []
