"""The contract suite against the database backend of the database the tests run on.

The default run (no DATABASE_URL) is SQLite; CI also runs with DATABASE_URL on PostgreSQL, so both
database backends are checked there and here.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.db import connection

from search.backends.database.postgres import PostgresBackend
from search.backends.database.sqlite import SQLiteBackend
from search.types import SearchQuery, SortOrder
from tests.contracts.search import (
    COMMON_WORD,
    DOCUMENT_TYPE,
    STOCK_STATES,
    TYPE,
    RandomQuery,
    SearchBackendContract,
    assert_exact_facets,
    random_corpus,
    random_query,
)

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


@pytest.fixture
def database_backend():
    return PostgresBackend() if connection.vendor == "postgresql" else SQLiteBackend()


def test_facet_counts_stay_exact_far_above_five_thousand_matches(database_backend):
    """Facets were once estimated from a sample above 5,000 matches; every count is now exact,
    whatever the number of matches, the words and the filters."""
    rng = random.Random(5_200)
    documents = random_corpus(rng, 6_000, common=0.95)
    database_backend.index(DOCUMENT_TYPE, documents)
    assert assert_exact_facets(database_backend, documents, RandomQuery((), {}, None, None)) == 6_000
    broad = assert_exact_facets(database_backend, documents, RandomQuery((COMMON_WORD,), {}, None, None))
    assert broad > 5_500
    filtered = RandomQuery((COMMON_WORD,), {"stock": list(STOCK_STATES)}, Decimal("0.50"), None)
    assert assert_exact_facets(database_backend, documents, filtered) > 5_000
    totals = [
        assert_exact_facets(database_backend, documents, random_query(rng, documents)) for _ in range(30)
    ]
    assert max(totals) > 1_000


def test_postgres_counts_exactly_from_bitmaps_and_from_rows_written_since(monkeypatch):
    """Many matches are counted with the facet bitmaps; documents changed, added or deleted after the
    bitmaps were built are counted from their rows until `compact` folds them in."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend: set DATABASE_URL to a PostgreSQL database to run it (CI does)")
    from search.backends.database import postgres

    monkeypatch.setattr(postgres, "BITMAP_MIN_MATCHES", 1)
    backend = PostgresBackend()
    rng = random.Random(9)
    documents = {d.object_id: d for d in random_corpus(rng, 700, common=0.9)}
    backend.rebuild(DOCUMENT_TYPE, [list(documents.values())])

    def in_bitmaps() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_searchdocument WHERE in_bitmaps")
            return cursor.fetchone()[0]

    def check_random_queries() -> None:
        corpus = list(documents.values())
        assert assert_exact_facets(backend, corpus, RandomQuery((COMMON_WORD,), {}, None, None)) > 500
        for _ in range(25):
            assert_exact_facets(backend, corpus, random_query(rng, corpus))

    assert in_bitmaps() == 700
    check_random_queries()

    # Changed (new words, suppliers and stock), added and deleted since the bitmaps were built.
    changed = random_corpus(random.Random(10), 150, common=0.5, first_id=10_100)
    added = random_corpus(random.Random(11), 80, common=0.9, first_id=20_000)
    backend.index(DOCUMENT_TYPE, changed + added)
    backend.delete(DOCUMENT_TYPE.name, list(range(10_000, 10_050)))
    documents.update({d.object_id: d for d in changed + added})
    for object_id in range(10_000, 10_050):
        del documents[object_id]
    assert in_bitmaps() == 700 - 150 - 50
    check_random_queries()

    backend.compact(DOCUMENT_TYPE)
    assert in_bitmaps() == len(documents) == 730
    check_random_queries()


def test_postgres_cached_broad_results_equal_live_ones_across_writes_and_compaction(monkeypatch):
    """Broad searches keep their result until the next compaction, corrected at read time for the rows
    written and deleted since: the total, every facet count and every page, in order, equal those of
    a live search (and the brute-force count) before and after writes and after compaction."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend: set DATABASE_URL to a PostgreSQL database to run it (CI does)")
    from search.backends.database import postgres

    monkeypatch.setattr(postgres, "CACHE_MIN_MATCHES", 40)
    monkeypatch.setattr(postgres, "CACHE_TOP", 60)
    backend = PostgresBackend()
    served = {"cache": 0}
    cached = PostgresBackend._cached

    def counting_cached(self, *args):
        result = cached(self, *args)
        served["cache"] += result[1] is not None
        return result

    monkeypatch.setattr(PostgresBackend, "_cached", counting_cached)
    rng = random.Random(21)
    documents = {d.object_id: d for d in random_corpus(rng, 700, common=0.9)}
    backend.rebuild(DOCUMENT_TYPE, [list(documents.values())])
    common = RandomQuery((COMMON_WORD,), {}, None, None)
    # The same bound as a minimum and as a maximum must not share a cached result.
    queries = [common, RandomQuery((), {}, None, None)]
    queries += [RandomQuery((COMMON_WORD,), {}, Decimal(200), None)]
    queries += [RandomQuery((COMMON_WORD,), {}, None, Decimal(200))]
    queries += [random_query(rng, list(documents.values())) for _ in range(20)]

    def run(query: RandomQuery, offset: int, sort: SortOrder, *, live: bool):
        with monkeypatch.context() as patch:
            if live:
                patch.setattr(postgres, "CACHE_TOP", 0)  # nothing is cacheable: every search is live
            return backend.search(
                DOCUMENT_TYPE,
                SearchQuery(
                    text=" ".join(query.words),
                    object_type=TYPE,
                    filters=query.filters,
                    price_min=query.price_min,
                    price_max=query.price_max,
                    sort=sort,
                    offset=offset,
                ),
            )

    def check() -> int:
        served["cache"] = 0
        corpus = list(documents.values())
        for query in queries:
            assert_exact_facets(backend, corpus, query)  # fills the cache when broad
            for sort in (SortOrder.RELEVANCE, SortOrder.PRICE_LOW):
                for offset in (0, 20, 40):
                    expected = run(query, offset, sort, live=True)
                    for _ in range(2):  # the first may fill the cache, the second reads it
                        got = run(query, offset, sort, live=False)
                        assert [(h.object_id, h.score) for h in got.hits] == [
                            (h.object_id, h.score) for h in expected.hits
                        ], (query, sort, offset)
                        assert got.total == expected.total
                        assert got.facets == expected.facets
        return served["cache"]

    assert check() > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_resultcache")
        assert cursor.fetchone()[0] > 0

    # The best documents of the common word deleted (the page must come from further down the cached
    # list, or live when too few are left), others changed (new words, titles, suppliers and prices),
    # some added.
    top = [h.object_id for h in run(common, 0, SortOrder.RELEVANCE, live=True).hits]
    top += [h.object_id for h in run(common, 20, SortOrder.RELEVANCE, live=True).hits[:10]]
    changed = [
        d
        for d in random_corpus(random.Random(22), 200, common=0.6, first_id=10_000)
        if d.object_id not in top and d.object_id % 3 == 0
    ]
    added = random_corpus(random.Random(23), 60, common=0.9, first_id=30_000)
    backend.index(DOCUMENT_TYPE, changed + added)
    backend.delete(DOCUMENT_TYPE.name, top)
    documents.update({d.object_id: d for d in changed + added})
    for object_id in top:
        del documents[object_id]
    assert check() > 0

    # A second change of the same rows keeps their compacted state, not the first change's.
    again = random_corpus(random.Random(24), 200, common=0.3, first_id=10_000)
    again = [d for d in again if d.object_id in documents and d.object_id % 3 == 0]
    backend.index(DOCUMENT_TYPE, again)
    documents.update({d.object_id: d for d in again})
    assert check() > 0

    backend.compact(DOCUMENT_TYPE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_supersededdocument")
        assert cursor.fetchone()[0] == 0
    assert check() > 0
