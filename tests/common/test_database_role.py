"""The deployment's application role reads and writes rows, but cannot undo the audit log's protection."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from common.models import AuditEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
]


@pytest.fixture
def app_role():
    """A role like the documented `marketplace_app`: may log in, owns nothing, is no superuser."""
    name = f"mk_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOSUPERUSER NOCREATEDB NOCREATEROLE")
    call_command("db_grant_app_role", name)
    yield name
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")


def as_role(role: str, sql: str, params: list | None = None) -> None:
    """Run one statement as `role`, inside a savepoint so a refusal leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(sql, params or [])


def test_the_application_role_reads_writes_and_appends_to_the_audit_log(app_role):
    as_role(app_role, "SELECT count(*) FROM catalogue_product")
    as_role(
        app_role,
        "INSERT INTO common_auditevent (occurred_at, kind, actor_identifier, subject, data) "
        "VALUES (now(), 'sign_in', 'x@example', 'session', '{}')",
    )
    assert AuditEvent.objects.filter(actor_identifier="x@example").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE common_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER common_auditevent_no_update ON common_auditevent",
        "TRUNCATE common_auditevent",
        "UPDATE common_auditevent SET subject = 'rewritten'",
        "DELETE FROM common_auditevent",
        "DROP TABLE catalogue_product",
        "CREATE TABLE smuggled (id int)",
    ],
)
def test_the_application_role_cannot_undo_the_audit_log_or_the_schema(app_role, statement):
    with pytest.raises(DatabaseError) as refused:
        as_role(app_role, statement)
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


def test_granting_to_a_role_that_does_not_exist_names_it():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No database role named 'nobody_here'"):
        call_command("db_grant_app_role", "nobody_here")
