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


@pytest.mark.django_db
def test_postgres_counts_facets_of_very_large_result_sets_on_a_sample(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend: set DATABASE_URL to a PostgreSQL database to run it (CI does)")
    from search.backends.database import postgres
    from tests.contracts.search import CORPUS, DOCUMENT_TYPE, search

    backend = PostgresBackend()
    backend.index(DOCUMENT_TYPE, CORPUS)
    monkeypatch.setattr(postgres, "FACET_EXACT_LIMIT", 10)
    monkeypatch.setattr(PostgresBackend, "facet_exact_limit", 10)
    results = search(backend, "gauze")
    assert results.total == 25
    assert results.facets_exact is False
    (supplier,) = results.facets["supplier"]
    assert supplier.value == "5"
    assert 10 <= supplier.count <= 25
    assert search(backend, "wheelchair").facets_exact is True
