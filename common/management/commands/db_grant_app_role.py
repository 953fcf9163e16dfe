"""Give the application's own database role what it needs to run, and nothing that owns the schema.

The documented deployment (infra/DEPLOY.md) uses two PostgreSQL roles: an owner that runs
migrations, and an application role for the web, worker and beat processes. The application role
reads and writes rows but owns no table, so it cannot drop or alter a table, nor disable the audit
log's append-only triggers (only an owner may), and it has no UPDATE, DELETE or TRUNCATE on the
audit log at all. Run this as the owner after every `migrate`; it is idempotent.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from common.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Grant the application role row access to every table, and only INSERT and SELECT on the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the application's database role, e.g. marketplace_app")

    def handle(self, *args: object, role: str, **options: object) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                f"Database roles are a PostgreSQL deployment's; this database is {connection.vendor}."
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"No database role named {role!r}: create it first (infra/DEPLOY.md).")
            cursor.execute("SELECT current_schema()")
            (schema,) = cursor.fetchone()
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone()[0]:
                raise CommandError(f"{role!r} is a superuser: the application role must not be.")
            quoted_role = connection.ops.quote_name(role)
            quoted_schema = connection.ops.quote_name(schema)
            audit_table = connection.ops.quote_name(AuditEvent._meta.db_table)
            for statement in [
                f"GRANT USAGE ON SCHEMA {quoted_schema} TO {quoted_role}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted_schema} "
                f"TO {quoted_role}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {quoted_role}",
                # Tables later migrations add get the same grants (they are re-run here anyway).
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted_schema} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted_role}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted_schema} "
                f"GRANT USAGE, SELECT ON SEQUENCES TO {quoted_role}",
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {audit_table} FROM {quoted_role}",
                f"REVOKE CREATE ON SCHEMA {quoted_schema} FROM {quoted_role}",
            ]:
                cursor.execute(statement)
        self.stdout.write(
            f"{role}: rows of every table in {schema}; the audit log append-only; owns nothing."
        )
