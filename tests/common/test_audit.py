import pytest
from django.db import DatabaseError, connection, transaction

from common import audit
from common.models import AuditEvent
from organisations import services as org_services
from tests.organisations.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_events_are_appended_with_who_and_what():
    user = UserFactory(email="buyer@example.nhs.uk")
    event = audit.record(kind=org_services.SIGNED_IN, actor=user, subject="session")
    event.refresh_from_db()
    assert event.actor == user
    assert event.actor_identifier == "buyer@example.nhs.uk"
    assert event.kind == "organisations.signed_in"


def test_the_application_cannot_edit_or_delete_an_event():
    event = audit.record(kind=org_services.SIGN_IN_FAILED, actor_identifier="someone@example.org")
    event.subject = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(subject="tampered")


def test_the_database_refuses_raw_updates_and_deletes():
    event = audit.record(kind=org_services.SIGN_IN_FAILED, actor_identifier="someone@example.org")
    table = AuditEvent._meta.db_table
    for statement in (
        f"UPDATE {table} SET subject = 'x' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.id])
    assert AuditEvent.objects.get(id=event.id).subject == ""


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_can_still_empty_their_database():
    # The flush after this test must get past the append-only triggers (test databases only).
    audit.record(kind=org_services.SIGNED_IN, actor_identifier="someone@example.org")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_triggers_hold_again():
    event = audit.record(kind=org_services.SIGN_IN_FAILED, actor_identifier="someone@example.org")
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [event.id])


def test_only_test_databases_have_the_triggers_lifted_for_a_flush():
    from common.management.commands.flush import is_test_database

    class Production:
        vendor = "postgresql"
        settings_dict = {"NAME": "marketplace"}

    assert not is_test_database(Production())
    assert is_test_database(connection)
