"""The database itself refuses to change or delete audit events, on PostgreSQL and SQLite."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION common_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER common_auditevent_no_update BEFORE UPDATE OR DELETE ON common_auditevent
    FOR EACH ROW EXECUTE FUNCTION common_auditevent_refuse_change();
CREATE TRIGGER common_auditevent_no_truncate BEFORE TRUNCATE ON common_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION common_auditevent_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS common_auditevent_no_update ON common_auditevent;
DROP TRIGGER IF EXISTS common_auditevent_no_truncate ON common_auditevent;
DROP FUNCTION IF EXISTS common_auditevent_refuse_change();
"""
SQLITE_UP = [
    "CREATE TRIGGER common_auditevent_no_update BEFORE UPDATE ON common_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
    "CREATE TRIGGER common_auditevent_no_delete BEFORE DELETE ON common_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS common_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS common_auditevent_no_delete;",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("common", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
