"""Migration operations the project's apps share (imported by migrations: keep them stable)."""

from __future__ import annotations

from django.db import migrations


class RunSQLOn(migrations.RunSQL):
    """`RunSQL` on one database engine only (`vendor`, as `connection.vendor` names it); the others
    skip it, both ways. For what only that engine has: constraints, index options, table storage."""

    def __init__(self, vendor: str, sql, reverse_sql=None, **kwargs) -> None:
        self.vendor = vendor
        super().__init__(sql, reverse_sql, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, [self.vendor, *args], kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Raw SQL operation on {self.vendor} only"
