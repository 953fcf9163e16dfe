"""The database backend: PostgreSQL full-text search or SQLite FTS5, chosen by the database in use."""

from __future__ import annotations

from django.db import connection

from search.backends.database.common import DatabaseBackend


def backend_for_connection() -> DatabaseBackend:
    if connection.vendor == "postgresql":
        from search.backends.database.postgres import PostgresBackend

        return PostgresBackend()
    if connection.vendor == "sqlite":
        from search.backends.database.sqlite import SQLiteBackend

        return SQLiteBackend()
    raise NotImplementedError(f"No database search backend for {connection.vendor}.")
