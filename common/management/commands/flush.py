"""`flush`, able to empty a TEST database despite the audit log's append-only triggers.

Transactional tests (pytest's `transaction=True`, needed for real concurrent transactions) end with a
flush. The triggers of migration common.0003 refuse it, as they should anywhere else: on any
database that is not a test database this command is Django's own, and the triggers still hold.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

# The same triggers as migration common.0003_audit_append_only, recreated after the flush.
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS common_auditevent_no_update ON common_auditevent",
        "DROP TRIGGER IF EXISTS common_auditevent_no_truncate ON common_auditevent",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS common_auditevent_no_update",
        "DROP TRIGGER IF EXISTS common_auditevent_no_delete",
    ],
}
CREATE = {
    "postgresql": [
        "CREATE TRIGGER common_auditevent_no_update BEFORE UPDATE OR DELETE ON common_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION common_auditevent_refuse_change()",
        "CREATE TRIGGER common_auditevent_no_truncate BEFORE TRUNCATE ON common_auditevent "
        "FOR EACH STATEMENT EXECUTE FUNCTION common_auditevent_refuse_change()",
    ],
    "sqlite": [
        "CREATE TRIGGER common_auditevent_no_update BEFORE UPDATE ON common_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
        "CREATE TRIGGER common_auditevent_no_delete BEFORE DELETE ON common_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    ],
}


def is_test_database(connection) -> bool:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return True
    return str(connection.settings_dict["NAME"]).rsplit("/", 1)[-1].startswith("test_")


@contextmanager
def audit_triggers_lifted(connection):
    vendor = connection.vendor
    if vendor not in DROP or "common_auditevent" not in connection.introspection.table_names():
        yield
        return
    with connection.cursor() as cursor:
        for statement in DROP[vendor]:
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in CREATE[vendor]:
                cursor.execute(statement)


class Command(DjangoFlush):
    def handle(self, **options) -> None:
        connection = connections[options["database"]]
        if not is_test_database(connection):
            return super().handle(**options)
        with audit_triggers_lifted(connection):
            return super().handle(**options)
