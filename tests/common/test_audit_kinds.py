"""Audit kinds are namespaced strings each app declares; the log refuses undeclared ones and the back
office reads their labels."""

from __future__ import annotations

import pytest

from common import audit
from common.models import AuditEvent
from organisations import services as org_services
from tests.organisations.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def declared():
    """Kinds this test declares are forgotten afterwards, so tests stay independent."""
    before, formerly = dict(audit._kinds), dict(audit._formerly)
    yield
    audit._kinds.clear()
    audit._kinds.update(before)
    audit._formerly.clear()
    audit._formerly.update(formerly)


def test_an_app_declares_a_namespaced_kind_and_records_it_without_a_migration(declared):
    kind = audit.register_kind("purchasing.order_approved", "Order approved")
    event = audit.record(kind=kind, actor_identifier="approver@leeds.example", subject="order:7")
    event.refresh_from_db()
    assert event.kind == "purchasing.order_approved"
    assert event.kind_label == "Order approved"
    assert "Order approved" in str(event)


def test_an_undeclared_kind_is_refused_so_a_typo_cannot_pass(declared):
    with pytest.raises(ValueError, match="Undeclared audit kind"):
        audit.record(kind="purchasing.order_aproved", actor_identifier="x@example.org")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "kind", ["order_approved", "Purchasing.order", "purchasing.", "a.b.c", "x" * 80 + ".y"]
)
def test_a_kind_is_app_dot_kind_in_lower_case(declared, kind):
    with pytest.raises(ValueError, match=r"app\.kind"):
        audit.register_kind(kind, "Something")


def test_declaring_again_is_harmless_but_two_labels_for_one_kind_clash(declared):
    audit.register_kind("ledger.transfer_posted", "Transfer posted")
    audit.register_kind("ledger.transfer_posted", "Transfer posted")
    with pytest.raises(ValueError, match="already declared"):
        audit.register_kind("ledger.transfer_posted", "Money moved")


def _stored_before_the_registry(kind: str, who: str) -> AuditEvent:
    """A row as the log held it before kinds were namespaced (the log is append-only: it stays)."""
    return AuditEvent.objects.create(kind=kind, actor_identifier=who)


def test_the_kinds_stored_before_the_registry_still_read_with_their_labels():
    assert audit.STORED_KINDS["sign_in"] == "Signed in"
    assert audit.kind_label("offer_moderated") == "Offer moderated"
    assert _stored_before_the_registry("locked_out", "x@example.org").kind_label == "Locked out"
    # A stored kind nobody declares any more still reads as itself.
    assert audit.kind_label("retired.kind") == "retired.kind"


@pytest.mark.parametrize("kind", ["sign_in", "access_denied", "file_imported", "approval"])
def test_nothing_records_a_stored_un_namespaced_kind_any_more(kind):
    with pytest.raises(ValueError, match="namespaced"):
        audit.record(kind=kind, actor_identifier="x@example.org")


def test_each_stored_kind_that_is_still_recorded_has_a_namespaced_successor():
    successors = {old for kind in audit.registered_kinds() for old in audit.kinds_meaning(kind)[1:]}
    # approval and transfer were never recorded by the code that replaced them.
    assert set(audit.STORED_KINDS) - successors == {"approval", "transfer"}
    assert audit.kinds_meaning(org_services.SIGNED_IN) == ["organisations.signed_in", "sign_in"]


def test_a_stored_kind_is_replaced_once(declared):
    with pytest.raises(ValueError, match="already replaced"):
        audit.register_kind("security.signed_in", "Signed in", formerly="sign_in")
    with pytest.raises(ValueError, match="not a kind stored"):
        audit.register_kind("security.signed_in", "Signed in", formerly="signed_in")


def test_the_back_office_lists_the_log_with_labels_and_filters_by_kind(client, declared):
    admin = UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    audit.register_kind("purchasing.order_approved", "Order approved")
    audit.record(kind="purchasing.order_approved", actor_identifier="approver@leeds.example")
    audit.record(kind=org_services.SIGNED_OUT, actor_identifier="buyer@leeds.example")
    page = client.get("/cms/audit/").content.decode()
    assert "Order approved" in page and "Signed out" in page
    filtered = client.get("/cms/audit/?kind=purchasing.order_approved").content.decode()
    assert "approver@leeds.example" in filtered and "buyer@leeds.example" not in filtered


def test_filtering_by_a_kind_finds_the_old_rows_of_the_same_meaning_too(client):
    admin = UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    _stored_before_the_registry("sign_out", "before@leeds.example")
    audit.record(kind=org_services.SIGNED_OUT, actor_identifier="after@leeds.example")
    audit.record(kind=org_services.LOCKED_OUT, actor_identifier="locked@leeds.example")
    page = client.get("/cms/audit/").content.decode()
    # One choice per meaning: the namespaced kind, not also the stored value it replaced.
    assert 'value="organisations.signed_out"' in page and 'value="sign_out"' not in page
    filtered = client.get("/cms/audit/?kind=organisations.signed_out").content.decode()
    assert "before@leeds.example" in filtered and "after@leeds.example" in filtered
    assert "locked@leeds.example" not in filtered


def test_the_back_office_cannot_add_change_or_delete_events(client):
    admin = UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    event = audit.record(kind=org_services.SIGNED_IN, actor_identifier="buyer@leeds.example")
    assert client.get("/cms/audit/new/").status_code in (302, 403)
    assert client.post("/cms/audit/new/", {"kind": "sign_in", "subject": "forged"}).status_code in (302, 403)
    assert client.post(f"/cms/audit/delete/{event.pk}/").status_code in (302, 403)
    # Nothing was forged, nothing deleted (the admin's own sign-in is in the log too).
    assert AuditEvent.objects.filter(actor_identifier="buyer@leeds.example").get() == event
    assert not AuditEvent.objects.filter(subject="forged").exists()
    assert client.get(f"/cms/audit/inspect/{event.pk}/").status_code == 200
