"""Audit kinds are declared by the apps (common.audit.register_kind), not choices on the field: a new
kind needs no migration. Stored kinds keep their values (the log is append-only: rows are never
rewritten).

SQLite alters a column by rebuilding the table, which drops its triggers, so the append-only
triggers of 0003 are laid again afterwards.
"""

import importlib

from django.db import migrations, models

append_only = importlib.import_module("common.migrations.0003_audit_append_only")


def relay_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in append_only.SQLITE_DOWN + append_only.SQLITE_UP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0005_import_job_heartbeat"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="kind",
            field=models.CharField(db_index=True, max_length=80),
        ),
        migrations.RunPython(relay_sqlite_triggers, migrations.RunPython.noop),
    ]
