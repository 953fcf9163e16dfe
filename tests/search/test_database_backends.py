"""The contract suite against the database backend of the database the tests run on.

The default run (no DATABASE_URL) is SQLite; CI also runs with DATABASE_URL on PostgreSQL, so both
database backends are checked there and here.
"""

from __future__ import annotations

import pytest
from django.db import connection

from search.backends.database.postgres import PostgresBackend
from search.backends.database.sqlite import SQLiteBackend
from tests.contracts.search import SearchBackendContract

pytestmark = pytest.mark.django_db


class TestSQLiteBackend(SearchBackendContract):
    @pytest.fixture
    def backend(self):
        if connection.vendor != "sqlite":
            pytest.skip(
                f"SQLite FTS5 backend: the test database is {connection.vendor}; the default run covers it"
            )
        return SQLiteBackend()


class TestPostgresBackend(SearchBackendContract):
    @pytest.fixture
    def backend(self):
        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL backend: set DATABASE_URL to a PostgreSQL database to run it (CI does)")
        return PostgresBackend()
