"""The contract suite against the database backend of the database the tests run on.

The default run (no DATABASE_URL) is SQLite; CI also runs with DATABASE_URL on PostgreSQL, so both
database backends are checked there and here.
"""

from __future__ import annotations

import random
from dataclasses import replace
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
    brute_force,
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


def test_postgres_first_broad_search_after_a_compaction_reads_the_carried_result_exactly(monkeypatch):
    """A compaction carries the cached results used since the last one over to the new state, corrected
    for the writes it folds in, so the first search of a broad query after it reads no match live; its
    total, facets and pages (both orders) equal a live search's and the brute-force count, compaction
    after compaction of random changes, additions and deletions, some among the best documents. A result
    not used since the last compaction is forgotten by the next; a rebuild makes the used ones again."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend: set DATABASE_URL to a PostgreSQL database to run it (CI does)")
    from search.backends.database import postgres

    monkeypatch.setattr(postgres, "CACHE_MIN_MATCHES", 40)
    monkeypatch.setattr(postgres, "CACHE_TOP", 60)
    backend = PostgresBackend()
    live_reads = {"n": 0}
    live = PostgresBackend._live

    def counting_live(self, *args, **kwargs):
        live_reads["n"] += 1
        return live(self, *args, **kwargs)

    monkeypatch.setattr(PostgresBackend, "_live", counting_live)
    rng = random.Random(31)
    documents = {d.object_id: d for d in random_corpus(rng, 700, common=0.9)}
    backend.rebuild(DOCUMENT_TYPE, [list(documents.values())])
    corpus = list(documents.values())
    common = RandomQuery((COMMON_WORD,), {}, None, None)
    queries = [common, RandomQuery((), {}, None, None), RandomQuery((COMMON_WORD,), {}, Decimal(100), None)]
    broad = (q for q in (random_query(rng, corpus) for _ in range(80)) if brute_force(corpus, q)[0] >= 60)
    queries += list({repr(q): q for q in broad if repr(q) not in map(repr, queries)}.values())[:10]
    assert len(queries) == 13
    orders = (SortOrder.RELEVANCE, SortOrder.PRICE_LOW)

    def search(query: RandomQuery, offset: int, sort: SortOrder, *, live: bool = False):
        with monkeypatch.context() as patch:
            if live:
                patch.setattr(postgres, "CACHE_TOP", 0)  # nothing is cacheable: every search is live
            results = backend.search(
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
        return [(h.object_id, h.score) for h in results.hits], results.total, results.facets

    def cached_results() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_resultcache")
            return cursor.fetchone()[0]

    def first_searches_are_cached_and_exact(used: list[RandomQuery]) -> None:
        corpus = list(documents.values())
        for query in used:
            live_reads["n"] = 0
            first = {(sort, offset): search(query, offset, sort) for sort in orders for offset in (0, 20)}
            assert live_reads["n"] == 0, query  # nobody waited for every match to be read and ranked
            first[SortOrder.RELEVANCE, 40] = search(query, 40, SortOrder.RELEVANCE)  # cached or live
            for (sort, offset), got in first.items():
                assert got == search(query, offset, sort, live=True), (query, sort, offset)
            assert_exact_facets(backend, corpus, query)

    for query in queries:  # made in this generation: used
        for sort in orders:
            search(query, 0, sort)
    assert cached_results() == 2 * len(queries)

    for round_ in range(3):
        writes = random.Random(40 + round_)
        best = [object_id for object_id, _ in search(common, 0, SortOrder.RELEVANCE, live=True)[0]]
        existing = sorted(documents)
        changed_ids = [*best[:4], *writes.sample([i for i in existing if i not in best], 80)]
        changed = [
            replace(d, object_id=object_id, version=f"r{round_}")
            for object_id, d in zip(
                changed_ids, random_corpus(writes, len(changed_ids), common=0.6), strict=True
            )
        ]
        deleted = [*best[4:8], *writes.sample([i for i in existing if i not in best + changed_ids], 40)]
        added = random_corpus(writes, 30, common=0.9, first_id=50_000 + 1_000 * round_)
        backend.index(DOCUMENT_TYPE, changed + added)
        backend.delete(TYPE, deleted)
        documents.update({d.object_id: d for d in changed + added})
        for object_id in deleted:
            del documents[object_id]
        # The last query is not searched between the second compaction and the third: the third
        # forgets its result.
        used = queries[:-1] if round_ == 2 else queries
        for query in used:  # read corrected for the writes, as before
            for sort in orders:
                assert search(query, 0, sort) == search(query, 0, sort, live=True)

        backend.compact(DOCUMENT_TYPE)
        assert cached_results() == 2 * len(used)
        first_searches_are_cached_and_exact(queries[:-1] if round_ >= 1 else queries)

    live_reads["n"] = 0
    for sort in orders:
        search(queries[-1], 0, sort)
    assert live_reads["n"] == 2  # forgotten: read live, and cached again
    assert cached_results() == 2 * len(queries)

    backend.rebuild(DOCUMENT_TYPE, [list(documents.values())])
    assert cached_results() == 2 * len(queries)
    first_searches_are_cached_and_exact(queries)


def test_postgres_compaction_carries_over_the_broadest_results_first(monkeypatch):
    """At most CARRY_MAX results are carried over a compaction (the compaction, which writers wait for,
    folds each): those with the most matches, the slowest to read live."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend: set DATABASE_URL to a PostgreSQL database to run it (CI does)")
    from search.backends.database import postgres

    monkeypatch.setattr(postgres, "CACHE_MIN_MATCHES", 40)
    monkeypatch.setattr(postgres, "CACHE_TOP", 60)
    monkeypatch.setattr(postgres, "CARRY_MAX", 2)
    backend = PostgresBackend()
    documents = random_corpus(random.Random(51), 700, common=0.9)
    backend.rebuild(DOCUMENT_TYPE, [documents])
    queries = [RandomQuery((word,), {}, None, None) for word in ("apple", COMMON_WORD, "river")]
    queries += [RandomQuery((), {}, None, None)]
    totals = [assert_exact_facets(backend, documents, query) for query in queries]
    assert min(totals) >= 40 and len(set(totals)) == 4
    by_total = sorted(zip(totals, queries, strict=True), key=lambda pair: -pair[0])
    broadest = [query for _, query in by_total[:2]]

    added = random_corpus(random.Random(52), 10, common=0.9, first_id=40_000)
    backend.index(DOCUMENT_TYPE, added)
    backend.compact(DOCUMENT_TYPE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT total FROM search_resultcache ORDER BY total DESC")
        carried = [total for (total,) in cursor.fetchall()]
    assert carried == [brute_force(documents + added, query)[0] for query in broadest]
