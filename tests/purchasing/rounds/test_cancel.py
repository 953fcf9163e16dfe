"""Calling a round off: the supplier that proposed it (or a trust admin whose trust did, or the
marketplace team) cancels a proposed or open round before the close, saying why. The trusts'
commitments end, nothing is ordered, and whoever had committed, and the suppliers, are emailed the
reason once. On the supplier's page, the trust's page and through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from common.errors import Conflict, DomainError, PermissionDenied
from common.models import AuditEvent
from organisations.acting import Acting
from organisations.models import Role
from purchasing.models import Commitment, PurchaseOrder, Round, RoundStatus
from purchasing.rounds import services
from tests.organisations.factories import SupplierFactory, UserFactory, member
from tests.purchasing.factories import acting
from tests.purchasing.rounds.factories import round_on


def commit(trust, round, packs):
    return services.commitment_set(
        round=round, actor=trust.approver, acting=acting(trust.organisation), packs=packs
    )


def cancel(pool, round, reason="Stock recalled by the manufacturer.", **kwargs):
    return services.round_cancel(
        round=round,
        actor=kwargs.get("actor", pool.supplier_staff),
        acting=kwargs.get("acting", acting(pool.supplier)),
        reason=reason,
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_cancelling_ends_the_commitments_orders_nothing_and_tells_those_who_committed(
    pool, django_capture_on_commit_callbacks
):
    stockings = round_on(pool.offer)
    leeds, nottingham, guys = pool.trusts[:3]
    commit(leeds, stockings, 120)
    commit(nottingham, stockings, 80)
    commit(guys, stockings, 40)
    services.commitment_withdraw(round=stockings, actor=guys.approver, acting=acting(guys.organisation))

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancel(pool, stockings)

    assert cancelled.status == RoundStatus.CANCELLED
    assert cancelled.decision_note == "Stock recalled by the manufacturer."
    assert Round.objects.get(pk=stockings.pk).committed_packs == 0
    ended = Commitment.objects.filter(round=stockings, withdrawn_at=cancelled.closed_at)
    assert set(ended.values_list("trust_id", flat=True)) == {
        leeds.organisation.pk,
        nottingham.organisation.pk,
    }
    assert not Commitment.objects.filter(round=stockings, withdrawn_at__isnull=True).exists()
    told = {address for message in mail.outbox for address in message.to}
    assert {leeds.approver.email, nottingham.approver.email, pool.supplier_staff.email} <= told
    assert guys.approver.email not in told  # withdrew before: not a participant any more
    assert all("Stock recalled by the manufacturer." in m.body for m in mail.outbox)
    record = AuditEvent.objects.get(kind="purchasing.round_cancelled", subject=stockings.reference)
    assert record.data["commitments_ended"] == 2 and record.data["committed_packs"] == 200
    # The close finds nothing to do; nothing was ordered; nobody may commit any more.
    after = services.round_close(round_id=stockings.pk, now=stockings.closes_at + dt.timedelta(seconds=1))
    assert after.status == RoundStatus.CANCELLED
    assert not PurchaseOrder.objects.exists()
    with pytest.raises(Conflict) as refused:
        commit(leeds, stockings, 10)
    assert refused.value.code == "round_not_open"


def test_a_round_is_cancelled_once_and_never_after_its_close(pool):
    stockings = round_on(pool.offer)
    cancel(pool, stockings)
    with pytest.raises(Conflict) as twice:
        cancel(pool, stockings)
    assert (twice.value.field, twice.value.code) == ("status", "round_not_cancellable")

    closed = round_on(pool.offer)
    services.round_close(round_id=closed.pk, now=closed.closes_at + dt.timedelta(seconds=1))
    with pytest.raises(Conflict):
        cancel(pool, closed)


def test_only_the_proposer_or_the_marketplace_team_cancels_and_a_reason_is_needed(pool):
    stockings = round_on(pool.offer)
    rival = SupplierFactory()
    with pytest.raises(PermissionDenied):
        cancel(pool, stockings, actor=member(Role.SUPPLIER_STAFF, rival), acting=acting(rival))
    leeds = pool.leeds
    with pytest.raises(PermissionDenied):
        cancel(pool, stockings, actor=leeds.admin, acting=acting(leeds.organisation))
    with pytest.raises(DomainError) as blank:
        cancel(pool, stockings, reason="  ")
    assert blank.value.field == "reason"
    assert Round.objects.get(pk=stockings.pk).status == RoundStatus.OPEN

    team = UserFactory(is_staff=True)
    assert (
        cancel(pool, stockings, actor=team, acting=Acting(organisation=None)).status == RoundStatus.CANCELLED
    )


def test_a_trust_admin_cancels_the_round_their_trust_proposed_but_not_a_buyer(pool):
    leeds = pool.leeds
    stockings = round_on(pool.offer, status=RoundStatus.PROPOSED)
    Round.objects.filter(pk=stockings.pk).update(proposed_by_organisation=leeds.organisation)
    with pytest.raises(PermissionDenied):
        cancel(pool, stockings, actor=leeds.buyer, acting=acting(leeds.organisation))
    done = cancel(pool, stockings, actor=leeds.admin, acting=acting(leeds.organisation))
    assert done.status == RoundStatus.CANCELLED


def test_the_supplier_cancels_on_its_round_page_and_the_trust_sees_why(pool):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 120)
    supplier_page = reverse("purchasing:round-supplier", kwargs={"round_id": stockings.pk})
    cancel_page = reverse("purchasing:round-cancel", kwargs={"round_id": stockings.pk})
    supplier = signed_in(pool.supplier_staff)
    assert cancel_page in supplier.get(supplier_page).content.decode()

    empty = supplier.post(cancel_page, {"reason": ""})
    assert empty.status_code == 400 and "reason" in empty.content.decode()
    done = supplier.post(cancel_page, {"reason": "Factory fire: no stock until spring."})

    assert done.status_code == 302 and done["Location"] == supplier_page
    assert Round.objects.get(pk=stockings.pk).status == RoundStatus.CANCELLED
    page = signed_in(pool.leeds.buyer).get(reverse("purchasing:round", kwargs={"round_id": stockings.pk}))
    text = page.content.decode()
    assert "Factory fire: no stock until spring." in text and 'id="commitment-ended"' in text
    assert cancel_page not in text  # a buyer of a trust that did not propose it has no cancel
    again = supplier.get(cancel_page)
    assert 'id="not-cancellable"' in again.content.decode()


def test_only_the_proposing_organisation_reaches_the_cancel_page(pool):
    stockings = round_on(pool.offer)
    cancel_page = reverse("purchasing:round-cancel", kwargs={"round_id": stockings.pk})
    # Leeds' admin sees the round (it is open to all trusts) but did not propose it.
    assert signed_in(pool.leeds.admin).post(cancel_page, {"reason": "No."}).status_code == 404
    rival = member(Role.SUPPLIER_STAFF, SupplierFactory())
    assert signed_in(rival).get(cancel_page).status_code == 404
    assert Round.objects.get(pk=stockings.pk).status == RoundStatus.OPEN


def test_the_proposer_cancels_through_the_api(pool):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 50)
    url = f"/api/v1/rounds/{stockings.pk}/cancel/"

    missing = api_as(pool.supplier_staff).post(url, {}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "reason"
    denied = api_as(pool.leeds.buyer).post(url, {"reason": "Not ours."}, format="json")
    assert denied.status_code == 403
    done = api_as(pool.supplier_staff).post(url, {"reason": "Recalled."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["committed_packs"]) == ("cancelled", 0)
    twice = api_as(pool.supplier_staff).post(url, {"reason": "Recalled."}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "round_not_cancellable"
    stranger = api_as(member(Role.SUPPLIER_STAFF, SupplierFactory()))
    assert stranger.post(url, {"reason": "x"}, format="json").status_code == 404


def test_the_marketplace_team_cancels_an_open_round_in_the_back_office(pool):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 60)
    queue = reverse("purchasing-rounds:index")
    cancel_page = reverse("purchasing-rounds:cancel", kwargs={"pk": stockings.pk})
    team = signed_in(UserFactory(is_staff=True, is_superuser=True))
    assert cancel_page in team.get(queue).content.decode()  # listed among the open rounds

    assert team.post(cancel_page, {"reason": ""}).status_code == 200  # the form again, with the error
    assert Round.objects.get(pk=stockings.pk).status == RoundStatus.OPEN
    done = team.post(cancel_page, {"reason": "Duplicate of another round."})

    assert done.status_code == 302
    cancelled = Round.objects.get(pk=stockings.pk)
    assert (cancelled.status, cancelled.decision_note) == (
        RoundStatus.CANCELLED,
        "Duplicate of another round.",
    )
    assert team.get(cancel_page).status_code == 404  # nothing left to cancel
    assert signed_in(pool.supplier_staff).get(cancel_page).status_code == 302  # to the sign-in
