"""The database backend: PostgreSQL full-text search or SQLite FTS5, chosen by the database in use."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from search.backends.database.common import DatabaseBackend


def backend_for_connection() -> DatabaseBackend:
    if connection.vendor == "postgresql":
        from search.backends.database.postgres import PostgresBackend

        return PostgresBackend()
    if connection.vendor == "sqlite":
        from search.backends.database.sqlite import SQLiteBackend

        return SQLiteBackend()
    # Only these two are supported; another database needs SEARCH_BACKEND=elasticsearch.
    raise ImproperlyConfigured(
        f"The database search backend supports PostgreSQL and SQLite, not {connection.vendor}; "
        "set ELASTICSEARCH_URL to search with Elasticsearch."
    )
