"""PostgreSQL: a stored, weighted tsvector with a GIN index; facets counted in the same statement.

One statement answers a search: the matches are materialised once (id, title, price, facet ids,
rank), then the page, the total and the facet counts are read from that set. Facet keys live on the
index row as integer ids (search_searchfacetvalue), so counting facets never joins to offers.
Facet counts are always exact. Few matches: their facet ids are unnested and grouped. Many matches
("box": 45,000): each facet value has a bitmap of the documents that have it (search_facetbitmap,
bit i = document id first_id + i); the matches become one bitmap and each value's count is
bit_count(value & matches), a few hundred bitmap ANDs instead of grouping half a million
(document, value) pairs. Documents written since the bitmaps were built (in_bitmaps false) are
counted from their rows and left out of the matches' bitmap, so every count is exact at any time;
`compact` folds them into the bitmaps (after a rebuild and from the reconcile beat task).
Typos are corrected per word against the vocabulary (search_searchterm) with pg_trgm, then the
corrected words go through full-text search, which stays on the GIN index.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from search.backends.base import document_facet_keys, document_text_by_weight, facet_key
from search.backends.database.common import DatabaseBackend, Groups
from search.models import SearchTerm
from search.types import Document, DocumentType, Hit, SearchQuery, SortOrder

Raw = tuple[int, list[Hit], dict[str, int] | None]

CONFIG = "english"
# From this many matches that are in the bitmaps, their facets are counted with bitmaps (a fixed cost
# of reading every value's bitmap) rather than by grouping their facet ids (a cost per match). Both are
# exact; this only picks the cheaper (measured on the search benchmark: bench/README.md).
BITMAP_MIN_MATCHES = 10_000
# Identical scores favour the closest match: the shortest title, then the title in code-point order
# (COLLATE "C", as SQLite compares), then the id. The matches carry title and title_length for this.
ORDER_BY = {
    SortOrder.RELEVANCE: 'score DESC, title_length, title COLLATE "C", object_id',
    SortOrder.PRICE_LOW: "price ASC NULLS LAST, object_id",
    SortOrder.PRICE_HIGH: "price DESC NULLS LAST, object_id",
    SortOrder.TITLE: "title, object_id",
}
# Without words every score is the same: browsing (filters only) lists titles A to Z.
BROWSE_ORDER = 'title COLLATE "C", object_id'
UPSERT = f"""
INSERT INTO search_searchdocument
    (object_type, object_id, title, facet_ids, price, version, in_bitmaps, indexed_at, vector)
VALUES (%s, %s, %s, %s, %s, %s, %s, now(),
        setweight(to_tsvector('{CONFIG}', %s), 'A') || setweight(to_tsvector('{CONFIG}', %s), 'B')
        || setweight(to_tsvector('{CONFIG}', %s), 'C') || setweight(to_tsvector('{CONFIG}', %s), 'D'))
ON CONFLICT (object_type, object_id) DO UPDATE SET
    title = EXCLUDED.title, facet_ids = EXCLUDED.facet_ids, price = EXCLUDED.price,
    version = EXCLUDED.version, indexed_at = EXCLUDED.indexed_at, vector = EXCLUDED.vector,
    in_bitmaps = EXCLUDED.in_bitmaps
"""  # noqa: S608 - CONFIG is a constant


def tsquery_sql(groups: Groups) -> tuple[str, list[str]]:
    """Each group is OR of its alternatives, groups are ANDed; an alternative of several words
    ("anti embolism") needs all its words, in any order, as on SQLite. Every piece goes through
    plainto_tsquery as a parameter, which reads no operators and never fails on syntax."""
    parts, params = [], []
    for group in groups:
        alternatives = []
        for phrase in group:
            alternatives.append(f"plainto_tsquery('{CONFIG}', %s)")
            params.append(" ".join(phrase))
        parts.append("(" + " || ".join(alternatives) + ")")
    return " && ".join(parts), params


# The bitmap of some documents of one type: set bits grouped in 64-bit blocks, gaps filled with zeros,
# padded to the type's length. `{rows}` yields (id); `base` is the type's search_facetbitmapbase row.
MATCHES_BITMAP = """
    SELECT rpad(string_agg(gap || mask::bit(64)::text, '' ORDER BY b), base.blocks * 64, '0')::varbit AS bits
    FROM (SELECT b, mask, repeat('0', (64 * (b - coalesce(lag(b) OVER (ORDER BY b), -1) - 1))::integer) AS gap
          FROM (SELECT (r.id - base.first_id) >> 6 AS b,
                       bit_or(1::bigint << ((r.id - base.first_id) & 63)::integer) AS mask
                FROM ({rows}) r CROSS JOIN base GROUP BY 1) blocks) g
    CROSS JOIN base GROUP BY base.blocks
"""
# A result made again (or carried over) replaces one of an older generation, or of the same generation
# (the same state) whose top was cut short by carrying it over a compaction (see FOLD). `used` stays.
REPLACE_CACHED = """ON CONFLICT (object_type, key) DO UPDATE SET
    generation = EXCLUDED.generation, total = EXCLUDED.total, top = EXCLUDED.top,
    facet_value_ids = EXCLUDED.facet_value_ids, facet_counts = EXCLUDED.facet_counts,
    search = EXCLUDED.search, created_at = now()
    WHERE rc.generation < EXCLUDED.generation
       OR (rc.generation = EXCLUDED.generation AND cardinality(rc.top) < cardinality(EXCLUDED.top))"""
# Folding written documents into the bitmaps (see `compact`), in one transaction.
COMPACT_LOCKS = [
    # One compaction at a time, and no writer meanwhile (writers wait); searches keep reading.
    "LOCK TABLE search_searchdocument IN SHARE ROW EXCLUSIVE MODE",
    "LOCK TABLE search_facetbitmap IN EXCLUSIVE MODE",
    # The cached results carried over to the new state (see FOLD), made before the rows are marked.
    # Dropped first too: a caller's transaction may build twice before it commits.
    "DROP TABLE IF EXISTS pg_temp.carried_results",
    """CREATE TEMPORARY TABLE carried_results (
        key text, search jsonb, total integer, top bigint[], facet_value_ids integer[], facet_counts integer[]
    ) ON COMMIT DROP""",
]
COMPACT = [
    "DROP TABLE IF EXISTS pg_temp.facet_documents",
    "CREATE TEMPORARY TABLE facet_documents (id bigint, facet_ids integer[]) ON COMMIT DROP",
    # Rows are marked and read in one statement: a row written meanwhile is either marked with the
    # values read here (its writer waits for this transaction) or left unmarked, counted from its row.
    """WITH marked AS (
        UPDATE search_searchdocument SET in_bitmaps = true
        WHERE object_type = %(type)s AND NOT in_bitmaps RETURNING id, facet_ids
    )
    INSERT INTO facet_documents
    SELECT id, facet_ids FROM marked
    UNION ALL
    SELECT id, facet_ids FROM search_searchdocument WHERE object_type = %(type)s AND in_bitmaps""",
    "DELETE FROM search_facetbitmap WHERE object_type = %(type)s",
    "DELETE FROM search_facetbitmapbase WHERE object_type = %(type)s",
    """INSERT INTO search_facetbitmapbase (object_type, first_id, blocks)
    SELECT %(type)s, min(id), ((max(id) - min(id)) / 64 + 1)::integer
    FROM facet_documents HAVING count(*) > 0""",
    """INSERT INTO search_facetbitmap (object_type, facet_value_id, bits)
    WITH base AS (SELECT first_id, blocks FROM search_facetbitmapbase WHERE object_type = %(type)s),
    blocks AS (
        SELECT k, (d.id - base.first_id) >> 6 AS b,
               bit_or(1::bigint << ((d.id - base.first_id) & 63)::integer) AS mask
        FROM facet_documents d CROSS JOIN base CROSS JOIN LATERAL unnest(d.facet_ids) k GROUP BY k, b
    )
    SELECT %(type)s, k,
           rpad(string_agg(gap || mask::bit(64)::text, '' ORDER BY b), base.blocks * 64, '0')::varbit
    FROM (SELECT k, b, mask,
                 repeat('0', (64 * (b - coalesce(lag(b) OVER (PARTITION BY k ORDER BY b), -1) - 1))::integer)
                 AS gap
          FROM blocks) g
    CROSS JOIN base GROUP BY k, base.blocks""",
    # The new state is the bitmaps' state: nothing is superseded; the cached results used since the
    # last compaction go on, folded into the new state, the others are forgotten.
    "DELETE FROM search_supersededdocument WHERE object_type = %(type)s",
    "DELETE FROM search_resultcache WHERE object_type = %(type)s",
    # (A search that read no cached row may have cached one of the old generation meanwhile.)
    """INSERT INTO search_resultcache AS rc
        (object_type, key, generation, total, top, facet_value_ids, facet_counts, search, used)
    SELECT %(type)s, r.key, b.generation, r.total, r.top, r.facet_value_ids, r.facet_counts, r.search, false
    FROM carried_results r JOIN search_facetbitmapbase b ON b.object_type = %(type)s
    """  # noqa: S608 - fixed fragments only; every value is a parameter
    + REPLACE_CACHED,
]


# Broad searches (this many matches or more) keep their result until the next compaction
# (search_resultcache), exact at any time: see CACHED.
CACHE_MIN_MATCHES = 2_000
# How many of a cached search's best documents are kept; pages beyond them are searched live, as are
# searches whose best documents were mostly changed since the last compaction.
CACHE_TOP = 500
# At most this many cached searches per document type until the next compaction.
CACHE_MAX_ROWS = 5_000
# How many narrow searches a process remembers, to skip their cache lookup.
NARROW_REMEMBERED = 10_000
# A result carried over a compaction keeps the part of its best documents still known to be the best
# (see FOLD); when it keeps less than this share of CACHE_TOP (or of its total, when smaller), it is
# made again from every match once the compaction has committed (see `compact`).
REFILL_BELOW = 0.8
# At most this many results are carried over a compaction, the broadest first (the slowest to read live):
# each costs 10-20 ms on the search benchmark, inside the compaction, which writers wait for.
CARRY_MAX = 1_000
# After a rebuild and after each compaction, the results of the single words used by at least
# WARM_MIN_DOCUMENTS documents (`search_searchterm`; at most WARM_WORDS of them, the broadest first)
# are made when none is kept, so that even their first search reads a kept result. Reading a word's
# matches live costs about 3 microseconds a match on the search benchmark (10,000 matches: 30 ms;
# "box", 44,692: 110-180 ms); made ahead, it costs that once in the task instead of in a buyer's
# request, and a result kept already costs a lookup.
WARM_MIN_DOCUMENTS = 10_000
WARM_WORDS = 100


@dataclass(frozen=True)
class Statement:
    """The parts of a search the live, cached and filling statements share."""

    type: str
    tsquery: str
    tsquery_params: list[str]
    score: str
    where: str
    where_params: list
    order: str
    key: str
    # What the search was (words after analysis, filters, price bounds, order), kept with its cached
    # result so that a compaction can build this statement again (see `_statement`).
    search: dict

    def sql(self, template: str, **parts: str) -> str:
        """`template` (FOLD, CACHED, FILL) with this search's fragments and `parts` in place."""
        return template.format(
            tsquery=self.tsquery, where=self.where, score=self.score, order=self.order, **parts
        )


# A broad search's cached result, made at the last compaction's state (the rows in the bitmaps, and the
# superseded rows as they were then), and the corrections for what was written since: the superseded
# rows that matched then are taken out (`gone`), the rows not in the bitmaps are matched live (`fresh`).
# Its best documents that were superseded are skipped (`kept`, at most LIMIT of them); `ranked` is the
# remaining best ones and the fresh matches, to be ordered. Every part is gated on the cached row
# (`EXISTS (SELECT 1 FROM c)`), so a miss costs one index lookup. Read by CACHED and by FOLD.
CORRECTED = """
WITH q AS (SELECT {tsquery} AS q),
c AS (
    SELECT c.key, c.used, c.total, c.top, c.facet_value_ids, c.facet_counts
    FROM search_resultcache c
    JOIN search_facetbitmapbase b ON b.object_type = c.object_type AND b.generation = c.generation
    CROSS JOIN q
    WHERE c.object_type = %s AND c.key = coalesce(q.q::text, '') || %s
),
gone AS MATERIALIZED (
    SELECT d.facet_ids FROM search_supersededdocument d CROSS JOIN q
    WHERE {where} AND EXISTS (SELECT 1 FROM c)
),
fresh AS MATERIALIZED (
    SELECT d.id, d.object_id, d.price, d.facet_ids, {score} AS score, d.title,
           char_length(d.title) AS title_length
    FROM (SELECT * FROM search_searchdocument WHERE object_type = %s AND NOT in_bitmaps OFFSET 0) d
    CROSS JOIN q
    WHERE {where} AND EXISTS (SELECT 1 FROM c)
),
kept AS MATERIALIZED (
    SELECT t.id FROM c CROSS JOIN unnest(c.top) WITH ORDINALITY t(id, ord)
    WHERE NOT EXISTS (SELECT 1 FROM search_supersededdocument s WHERE s.id = t.id)
    ORDER BY t.ord LIMIT %s
),
ranked AS (
    SELECT d.id, true AS is_kept, d.object_id, d.price, {score} AS score, d.title,
           char_length(d.title) AS title_length
    FROM kept JOIN search_searchdocument d ON d.id = kept.id CROSS JOIN q
    UNION ALL
    SELECT id, false, object_id, price, score, title, title_length FROM fresh
),
corrected_total AS (
    SELECT (SELECT total FROM c) - (SELECT count(*) FROM gone) + (SELECT count(*) FROM fresh) AS n
),
corrected_counts AS (
    SELECT k, sum(n)::integer AS n FROM (
        SELECT unnest(facet_value_ids) AS k, unnest(facet_counts) AS n FROM c
        UNION ALL SELECT unnest(facet_ids), -1 FROM gone
        UNION ALL SELECT unnest(facet_ids), 1 FROM fresh
    ) parts GROUP BY k
)
"""
# A cached result's top is always the exact beginning of its ranking at its state; it holds every
# match when its length is the total. A page can be read from the cache when the top is complete or
# enough of its best documents are left to fill it (`usable`); the caller then searches live.
CACHED = (
    CORRECTED  # noqa: S608 - fixed fragments only; every value is a parameter
    + """
SELECT (SELECT n FROM corrected_total),
       coalesce((SELECT cardinality(top) = total FROM c), false) OR (SELECT count(*) FROM kept) >= %s,
       (SELECT coalesce(json_agg(json_build_array(p.object_id, p.title, p.score) ORDER BY {order}), '[]')
        FROM (SELECT * FROM ranked ORDER BY {order} LIMIT %s OFFSET %s) p),
       {facets},
       (SELECT json_build_array(key, used) FROM c)
"""
)
CACHED_FACETS = """(SELECT coalesce(json_object_agg(v.key, x.n), '{}')
    FROM corrected_counts x JOIN search_searchfacetvalue v ON v.id = x.k WHERE x.n > 0)"""
# Marking a cached result used, once per compaction (SKIP LOCKED: a search never waits for this, nor
# for a compaction replacing the row).
MARK_USED = """
UPDATE search_resultcache SET used = true
WHERE (object_type, key) IN (
    SELECT object_type, key FROM search_resultcache
    WHERE object_type = %s AND key = %s AND NOT used FOR UPDATE SKIP LOCKED
)
"""
# A cached result carried over a compaction, made in the compaction's transaction before it marks the
# rows: the corrections of CORRECTED folded in. The total and the facet counts become the new state's.
# The top becomes the kept and fresh documents in order, cut where it stops being the exact beginning
# of the new ranking: a match outside the old top ranked below all of the old top, so below its last
# kept document, and fresh matches below that one may have such matches above them. A complete top
# stays complete (up to CACHE_TOP). `valid` is that cut.
FOLD = (
    CORRECTED  # noqa: S608 - fixed fragments only; every value is a parameter
    + """,
ordered AS MATERIALIZED (SELECT r.*, row_number() OVER (ORDER BY {order}) AS rn FROM ranked r),
valid AS (
    SELECT CASE WHEN (SELECT cardinality(top) = total FROM c) THEN (SELECT count(*) FROM ordered)
                ELSE coalesce((SELECT max(rn) FROM ordered WHERE is_kept), 0) END AS n
)
INSERT INTO carried_results (key, search, total, top, facet_value_ids, facet_counts)
SELECT c.key, %s::jsonb, (SELECT n FROM corrected_total),
       coalesce((SELECT array_agg(o.id ORDER BY o.rn) FROM ordered o
                 WHERE o.rn <= least((SELECT n FROM valid), %s)), '{{}}'),
       coalesce((SELECT array_agg(k ORDER BY k) FROM corrected_counts WHERE n > 0), '{{}}'),
       coalesce((SELECT array_agg(n ORDER BY k) FROM corrected_counts WHERE n > 0), '{{}}')
FROM c
"""
)
# A broad search's result at the last compaction's state, kept: its total, its CACHE_TOP best rows in
# order and its facet counts (every row of that state is in the facet bitmaps). A row made from a
# snapshot older than the current generation replaces nothing newer and is never read.
FILL = """
WITH q AS (SELECT {tsquery} AS q),
base AS (SELECT first_id, blocks, generation FROM search_facetbitmapbase WHERE object_type = %s),
m AS MATERIALIZED (
    SELECT d.id, d.object_id, d.price, {score} AS score, d.title, char_length(d.title) AS title_length
    FROM search_searchdocument d CROSS JOIN q WHERE {where} AND d.in_bitmaps
    UNION ALL
    SELECT d.id, d.object_id, d.price, {score}, d.title, char_length(d.title)
    FROM search_supersededdocument d CROSS JOIN q WHERE {where}
),
counts AS MATERIALIZED (
    SELECT fb.facet_value_id AS k, bit_count(fb.bits & mb.bits)::integer AS n
    FROM ({bitmap}) mb JOIN search_facetbitmap fb ON fb.object_type = %s
)
INSERT INTO search_resultcache AS rc
    (object_type, key, generation, total, top, facet_value_ids, facet_counts, search)
SELECT %s, coalesce(q.q::text, '') || %s, base.generation, (SELECT count(*) FROM m),
       coalesce((SELECT array_agg(t.id ORDER BY {order}) FROM (SELECT * FROM m ORDER BY {order} LIMIT %s) t),
                '{{}}'),
       coalesce((SELECT array_agg(k ORDER BY k) FROM counts WHERE n > 0), '{{}}'),
       coalesce((SELECT array_agg(n ORDER BY k) FROM counts WHERE n > 0), '{{}}'),
       %s::jsonb
FROM q CROSS JOIN base
WHERE (SELECT count(*) FROM search_resultcache WHERE object_type = %s) < %s
{on_conflict}
"""
# Appended to the live statement of a broad search: when nothing was written since the last compaction,
# its matches are that compaction's state, so its result can be cached without reading them again.
KEEP = """
    (SELECT json_build_array(coalesce((SELECT q.q::text FROM q), '') || %s, b.generation,
            (SELECT array_agg(t.id ORDER BY {order}) FROM (SELECT * FROM m ORDER BY {order} LIMIT %s) t))
     FROM search_facetbitmapbase b
     WHERE b.object_type = %s AND (SELECT total FROM counts) >= %s
       AND NOT EXISTS (SELECT 1 FROM search_searchdocument WHERE object_type = %s AND NOT in_bitmaps)
       AND NOT EXISTS (SELECT 1 FROM search_supersededdocument WHERE object_type = %s))
"""
KEEP_INSERT = (
    """
INSERT INTO search_resultcache AS rc
    (object_type, key, generation, total, top, facet_value_ids, facet_counts, search)
SELECT %s, %s, %s, %s, %s::bigint[], f.ids, f.counts, %s::jsonb
FROM (SELECT coalesce(array_agg(v.id ORDER BY v.id), '{}') AS ids,
             coalesce(array_agg(x.n::integer ORDER BY v.id), '{}') AS counts
      FROM json_each_text(%s::json) x(key, n) JOIN search_searchfacetvalue v ON v.key = x.key) f
WHERE (SELECT count(*) FROM search_resultcache WHERE object_type = %s) < %s
"""  # noqa: S608 - fixed fragments only; every value is a parameter
    + REPLACE_CACHED
)
# Before a row in the bitmaps is overwritten or deleted, its compacted state is kept (once: a row
# changed twice keeps its first state). The row lock makes a concurrent writer of the same row wait
# and then find it no longer in the bitmaps.
SUPERSEDE = """
INSERT INTO search_supersededdocument (id, object_type, object_id, title, price, facet_ids, vector)
SELECT id, object_type, object_id, title, price, facet_ids, vector FROM search_searchdocument
WHERE {rows} AND in_bitmaps FOR UPDATE
ON CONFLICT (id) DO NOTHING
"""
# Writers and compactions exclude each other (a compaction holds SHARE ROW EXCLUSIVE), so a
# compaction sees the rows, the superseded rows and the bitmaps in one state.
WRITER_LOCK = "LOCK TABLE search_searchdocument IN ROW EXCLUSIVE MODE"


class PostgresBackend(DatabaseBackend):
    vendor = "postgresql"

    def __init__(self) -> None:
        super().__init__()
        # Whether this thread is rebuilding: one backend serves every thread of a process, and a write
        # from another thread during a rebuild is an ordinary write (not in the bitmaps, superseding).
        self._local = threading.local()
        # Searches this process found narrow (fewer than CACHE_MIN_MATCHES matches), most recent last:
        # they skip the cache lookup. Only a hint: a search that has grown broad since is still exact,
        # only answered live until it ages out.
        self._narrow: OrderedDict[tuple, None] = OrderedDict()

    @property
    def _rebuilding(self) -> bool:
        return getattr(self._local, "rebuilding", False)

    @_rebuilding.setter
    def _rebuilding(self, value: bool) -> None:
        self._local.rebuilding = value

    def facet_ids(self, keys: set[str]) -> dict[str, int]:
        if not keys:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO search_searchfacetvalue (key) SELECT unnest(%s::text[]) "
                "ON CONFLICT (key) DO NOTHING",
                [sorted(keys)],
            )
            cursor.execute("SELECT key, id FROM search_searchfacetvalue WHERE key = ANY(%s)", [sorted(keys)])
            return dict(cursor.fetchall())

    def known_facet_ids(self, keys: set[str]) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, id FROM search_searchfacetvalue WHERE key = ANY(%s)", [sorted(keys)])
            return dict(cursor.fetchall())

    def write_documents(self, document_type: DocumentType, documents: Sequence[Document]) -> None:
        keys = {d.object_id: document_facet_keys(d) for d in documents}
        ids = self.facet_ids({k for values in keys.values() for k in values})
        rows = []
        for d in documents:
            text = document_text_by_weight(document_type, d)
            rows.append(
                (
                    document_type.name,
                    d.object_id,
                    d.title[:300],
                    sorted(ids[k] for k in keys[d.object_id]),
                    d.price,
                    d.version[:100],
                    # A rebuild builds the bitmaps of every row before it commits; any other write
                    # leaves the row to be counted from its facet ids until `compact`.
                    self._rebuilding,
                    text["A"],
                    text["B"],
                    text["C"],
                    text["D"],
                )
            )
        with connection.cursor() as cursor:
            if not self._rebuilding:
                # A rebuild compacts everything before it commits; any other write keeps the compacted
                # state of the rows it overwrites, for the cached results (see CACHED).
                cursor.execute(WRITER_LOCK)
                cursor.execute(
                    SUPERSEDE.format(rows="object_type = %s AND object_id = ANY(%s)"),
                    [document_type.name, [d.object_id for d in documents]],
                )
            cursor.executemany(UPSERT, rows)

    def rebuild(self, document_type: DocumentType, batches, progress=None) -> int:
        """Bulk loading with the GIN pending list on is many times faster; it is merged at the end
        and switched off again so that searches never scan a pending list. The rows are written as in
        the facet bitmaps, which after_rebuild builds before this transaction commits. Every row is new,
        so no cached result can be carried over: the searches used since the last compaction are made
        again from the new rows once they are written."""
        used = self._used_searches(document_type.name)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Writers wait for the rebuild (taken first, as compactions do, so neither deadlocks).
                cursor.execute("LOCK TABLE search_searchdocument IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute("ALTER INDEX search_document_vector SET (fastupdate = on)")
            self._rebuilding = True
            try:
                written = super().rebuild(document_type, batches, progress)
            finally:
                self._rebuilding = False
            with connection.cursor() as cursor:
                cursor.execute("SELECT gin_clean_pending_list('search_document_vector'::regclass)")
                cursor.execute("ALTER INDEX search_document_vector SET (fastupdate = off)")
        self._make_again(document_type, used)
        return written

    def delete_text(self, row_ids: list[int]) -> None:
        # The vector lives on the document row, which the caller deletes; outside a rebuild, the row's
        # compacted state is kept for the cached results (see CACHED).
        if self._rebuilding:
            return
        with connection.cursor() as cursor:
            cursor.execute(WRITER_LOCK)
            cursor.execute(SUPERSEDE.format(rows="id = ANY(%s)"), [row_ids])

    def after_rebuild(self, document_type: DocumentType) -> None:
        # Fresh statistics so the planner sees the new vectors and vocabulary; inside the rebuild's
        # transaction (see rebuild), so the new rows and their bitmaps commit together.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")
            cursor.execute("ANALYZE search_searchterm")
        self.build_facet_bitmaps(document_type, carry=False)

    def compact(self, document_type: DocumentType) -> None:
        """Rebuild the facet bitmaps when documents were written or deleted since they were built. The
        cached results used since the last compaction are carried over, corrected for those writes (see
        FOLD), so their next search is answered from the cache as before; once the compaction has
        committed, those whose best documents were cut short by the writes are made again from every
        match (the searches meanwhile are exact from the shorter top, or live past it)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM search_searchdocument "
                "WHERE object_type = %s AND NOT in_bitmaps) "
                "OR EXISTS (SELECT 1 FROM search_supersededdocument WHERE object_type = %s)",
                [document_type.name, document_type.name],
            )
            stale = cursor.fetchone()[0]
        if stale:
            self.build_facet_bitmaps(document_type, carry=True)
            short = self._current_searches(
                document_type.name,
                "cardinality(c.top) < least(c.total, %s) * %s ORDER BY c.key",
                [CACHE_TOP, REFILL_BELOW],
            )
            self._make_again(document_type, short)

    def warm(self, document_type: DocumentType) -> list[str]:
        """Search each of the broadest words (see WARM_MIN_DOCUMENTS) as a results page first does (the
        first page, with facets, by relevance): a result not kept is made and kept, as that page would."""
        words = list(
            SearchTerm.objects.filter(doc_count__gte=max(CACHE_MIN_MATCHES, WARM_MIN_DOCUMENTS))
            .order_by("-doc_count", "term")
            .values_list("term", flat=True)[:WARM_WORDS]
        )
        for word in words:
            self.search(document_type, SearchQuery(text=word, object_type=document_type.name))
        return words

    def build_facet_bitmaps(self, document_type: DocumentType, *, carry: bool) -> None:
        """Fold the rows written since into the bitmaps; with `carry`, the cached results used since the
        last compaction are carried over to the new state (without, they are all forgotten)."""
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in COMPACT_LOCKS:
                cursor.execute(statement)
            for search in self._used_searches(document_type.name) if carry else []:
                query, groups = self._query_of(document_type, search)
                statement = self._statement(document_type, query, groups)
                cursor.execute(
                    statement.sql(FOLD),
                    [
                        *statement.tsquery_params,
                        statement.type,
                        statement.key,
                        *statement.where_params,
                        statement.type,
                        *statement.where_params,
                        None,  # every kept document
                        json.dumps(statement.search),
                        CACHE_TOP,
                    ],
                )
            for statement in COMPACT:
                cursor.execute(statement, {"type": document_type.name})

    def _used_searches(self, object_type: str) -> list[dict]:
        """The searches whose cached result of the current state was read or made since the last
        compaction: the CARRY_MAX with the most matches."""
        return self._current_searches(
            object_type, "c.used ORDER BY c.total DESC, c.key LIMIT %s", [CARRY_MAX]
        )

    def _current_searches(self, object_type: str, condition: str, params: list) -> list[dict]:
        """The searches of the cached results of the current generation meeting `condition` (a fixed
        fragment on the result `c`, with its parameters)."""
        with connection.cursor() as cursor:
            sql = (
                "SELECT c.search FROM search_resultcache c JOIN search_facetbitmapbase b "  # noqa: S608
                "ON b.object_type = c.object_type AND b.generation = c.generation "
                f"WHERE c.object_type = %s AND c.search IS NOT NULL AND {condition}"
            )
            cursor.execute(sql, [object_type, *params])
            return [self._json(row[0]) for row in cursor.fetchall()]

    def _make_again(self, document_type: DocumentType, searches: list[dict]) -> None:
        """Cache these searches' results again from every match, as their first search would."""
        if not searches:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jit', 'off', false), set_config('work_mem', '64MB', false)")
            for search in searches:
                query, groups = self._query_of(document_type, search)
                self._fill(cursor, self._statement(document_type, query, groups))

    @staticmethod
    def _json(value):
        return json.loads(value) if isinstance(value, str) else value

    @staticmethod
    def _search_of(query: SearchQuery, groups: Groups) -> dict:
        """What a cached result answers, as JSON: the analysed words and everything else that shapes
        the statement (filters as pairs, since jsonb does not keep the order of an object's keys)."""
        return {
            "groups": [[list(phrase) for phrase in group] for group in groups],
            "filters": [[name, list(values)] for name, values in query.filters.items()],
            "price_min": None if query.price_min is None else str(query.price_min),
            "price_max": None if query.price_max is None else str(query.price_max),
            "sort": query.sort.value,
        }

    @staticmethod
    def _query_of(document_type: DocumentType, search: dict) -> tuple[SearchQuery, Groups]:
        """The query and groups `_search_of` described; its statement is the one first cached."""
        groups = tuple(tuple(tuple(phrase) for phrase in group) for group in search["groups"])
        query = SearchQuery(
            object_type=document_type.name,
            filters={name: list(values) for name, values in search["filters"]},
            price_min=None if search["price_min"] is None else Decimal(search["price_min"]),
            price_max=None if search["price_max"] is None else Decimal(search["price_max"]),
            sort=SortOrder(search["sort"]),
        )
        return query, groups

    def _where(
        self, document_type: DocumentType, query: SearchQuery, groups: Groups
    ) -> tuple[list[str], list]:
        """The conditions a row `d` (a document, or a superseded one) must meet, and their parameters."""
        where = ["d.object_type = %s"]
        params: list = [document_type.name]
        if groups:
            where.append("d.vector @@ q.q")
        known = (
            self.known_facet_ids({facet_key(n, v) for n, values in query.filters.items() for v in values})
            if query.filters
            else {}
        )
        for name, values in query.filters.items():
            ids = sorted(known[k] for k in (facet_key(name, v) for v in values) if k in known)
            # With words, the text index leads and facets filter its matches: estimates for an array
            # overlap are poor, and a facet-led plan can visit most of the table.
            where.append(
                "coalesce(d.facet_ids && %s::integer[], false)" if groups else "d.facet_ids && %s::integer[]"
            )
            params.append(ids)
        if query.price_min is not None:
            where.append("d.price >= %s")
            params.append(query.price_min)
        if query.price_max is not None:
            where.append("d.price <= %s")
            params.append(query.price_max)
        return where, params

    def _statement(self, document_type: DocumentType, query: SearchQuery, groups: Groups) -> Statement:
        tsquery, tsquery_params = tsquery_sql(groups) if groups else ("NULL::tsquery", [])
        score = "ts_rank(d.vector, q.q, 1)" if groups else "0.0"
        where, where_params = self._where(document_type, query, groups)
        order = BROWSE_ORDER if not groups and query.sort == SortOrder.RELEVANCE else ORDER_BY[query.sort]
        return Statement(
            type=document_type.name,
            tsquery=tsquery,
            tsquery_params=tsquery_params,
            score=score,
            where=" AND ".join(where),
            where_params=where_params,
            order=order,
            # What the cached result depends on besides the words (whose tsquery is added in SQL): the
            # conditions with their values (a price bound alone says nothing of its side) and the order.
            key="|" + json.dumps([order, where, where_params[1:]], default=str),
            search=self._search_of(query, groups),
        )

    def execute(self, document_type: DocumentType, query: SearchQuery, groups: Groups) -> Raw:
        statement = self._statement(document_type, query, groups)
        cacheable = query.offset + query.limit <= CACHE_TOP
        with connection.cursor() as cursor:
            # JIT compilation costs more than it saves on statements this short (100+ ms at worst), and
            # the materialised matches of a common word outgrow the default 4 MB work_mem.
            cursor.execute("SELECT set_config('jit', 'off', false), set_config('work_mem', '64MB', false)")
            narrow_key = (statement.type, statement.tsquery, tuple(statement.tsquery_params), statement.key)
            found = False
            if cacheable and narrow_key not in self._narrow:
                found, cached = self._cached(cursor, statement, query)
                if cached is not None:
                    return cached
            total, hits, facets, kept = self._live(
                cursor, statement, query, keep=cacheable and query.with_facets
            )
            if total < CACHE_MIN_MATCHES:
                self._narrow.pop(narrow_key, None)
                self._narrow[narrow_key] = None
                while len(self._narrow) > NARROW_REMEMBERED:
                    try:
                        self._narrow.popitem(last=False)
                    except KeyError:  # emptied meanwhile by another thread
                        break
            elif cacheable and query.with_facets and not found:
                # Results pages fill the cache; autocomplete (no facets) only reads it. A result cached
                # but unusable (its best documents changed since) would be made again the same: it
                # waits for the next compaction, which makes it again (see `compact`).
                self._narrow.pop(narrow_key, None)
                if kept is not None:
                    self._keep(cursor, statement, kept, total, facets or {})
                else:
                    self._fill(cursor, statement)
        return total, hits, facets

    def _cached(self, cursor, s: Statement, query: SearchQuery) -> tuple[bool, Raw | None]:
        """(whether the search has a cached result, that result corrected for the rows written since
        or None when too many of its best documents changed since to fill the page)."""
        need = query.offset + query.limit
        cursor.execute(
            s.sql(CACHED, facets=CACHED_FACETS if query.with_facets else "NULL"),
            [
                *s.tsquery_params,
                s.type,
                s.key,
                *s.where_params,
                s.type,
                *s.where_params,
                need,
                need,
                query.limit,
                query.offset,
            ],
        )
        total, usable, hits_json, facets_json, entry = cursor.fetchone()
        if total is None:
            return False, None
        key, used = self._json(entry)
        if not used:  # carried over the last compaction, read for the first time since
            cursor.execute(MARK_USED, [s.type, key])
        return True, (self._result(total, hits_json, facets_json) if usable else None)

    def _live(
        self, cursor, s: Statement, query: SearchQuery, *, keep: bool
    ) -> tuple[int, list[Hit], dict[str, int] | None, list | None]:
        """Every match read and ranked; facets counted exactly (bitmaps for many matches). With `keep`,
        a broad search read when nothing was written since the last compaction (so its matches are that
        compaction's state) also returns what caching its result needs: [key, generation, best ids]."""
        # Exact counts, in two parts added together: the matches in the bitmaps, counted with bitmaps when
        # there are many of them, and the others (written since, or few matches) by unnesting their facet
        # ids (unnest in the select list is several times faster than a lateral join). The gate is one
        # one-time filter, so the branch not taken is never run. Facet ids join their keys only after
        # counting.
        bitmapped = MATCHES_BITMAP.format(rows="SELECT id FROM m WHERE m.in_bitmaps")
        facets_sql = f"""
            (SELECT coalesce(json_object_agg(v.key, c.n), '{{}}') FROM (
                SELECT k, sum(n) AS n FROM (
                    SELECT fb.facet_value_id AS k, bit_count(fb.bits & mb.bits) AS n
                    FROM ({bitmapped}) mb
                    JOIN search_facetbitmap fb ON fb.object_type = %s
                    WHERE (SELECT bitmapped FROM counts) >= %s
                    UNION ALL
                    SELECT k, count(*) FROM (
                        SELECT unnest(facet_ids) AS k FROM m
                        WHERE NOT m.in_bitmaps OR (SELECT bitmapped FROM counts) < %s
                    ) u GROUP BY k
                ) parts GROUP BY k
            ) c JOIN search_searchfacetvalue v ON v.id = c.k WHERE c.n > 0)
        """  # noqa: S608 - fixed fragments only
        # The matches keep only what ranking, sorting and counting need: the title (and its length)
        # breaks ties between identical scores and sorts by title.
        sql = f"""
            WITH q AS (SELECT {s.tsquery} AS q),
            base AS (SELECT first_id, blocks FROM search_facetbitmapbase WHERE object_type = %s),
            m AS MATERIALIZED (
                SELECT d.id, d.object_id, d.price, d.facet_ids, d.in_bitmaps, {s.score} AS score,
                       d.title, char_length(d.title) AS title_length
                FROM search_searchdocument d CROSS JOIN q
                WHERE {s.where}
            ),
            counts AS (SELECT count(*) AS total, count(*) FILTER (WHERE in_bitmaps) AS bitmapped FROM m)
            SELECT (SELECT total FROM counts),
                   (SELECT coalesce(json_agg(json_build_array(
                        p.object_id, p.title, p.score) ORDER BY {s.order}), '[]')
                    FROM (SELECT id, object_id, score, price, title, title_length FROM m
                          ORDER BY {s.order} LIMIT %s OFFSET %s) p),
                   {facets_sql if query.with_facets else "NULL"},
                   {KEEP.format(order=s.order) if keep else "NULL"}
        """  # noqa: S608 - only fixed fragments are formatted in; every value is a parameter
        facet_params = [s.type, BITMAP_MIN_MATCHES, BITMAP_MIN_MATCHES] if query.with_facets else []
        keep_params = [s.key, CACHE_TOP, s.type, CACHE_MIN_MATCHES, s.type, s.type] if keep else []
        cursor.execute(
            sql,
            [
                *s.tsquery_params,
                s.type,
                *s.where_params,
                query.limit,
                query.offset,
                *facet_params,
                *keep_params,
            ],
        )
        total, hits_json, facets_json, kept = cursor.fetchone()
        kept = json.loads(kept) if isinstance(kept, str) else kept
        return (*self._result(total, hits_json, facets_json), kept)

    def _keep(self, cursor, s: Statement, kept: list, total: int, facets: dict[str, int]) -> None:
        """Cache a broad search's result from its live reading (see _live's `keep`)."""
        key, generation, best = kept
        cursor.execute(
            KEEP_INSERT,
            [
                s.type,
                key,
                generation,
                total,
                best or [],
                json.dumps(s.search),
                json.dumps(facets),
                s.type,
                CACHE_MAX_ROWS,
            ],
        )

    def _fill(self, cursor, s: Statement) -> None:
        """Keep a broad search's result as of the last compaction: the rows still in the bitmaps and the
        superseded ones, as they were then. Made in one snapshot, under that snapshot's generation: a
        result made while a compaction commits is never read."""
        cursor.execute(
            s.sql(FILL, bitmap=MATCHES_BITMAP.format(rows="SELECT id FROM m"), on_conflict=REPLACE_CACHED),
            [
                *s.tsquery_params,
                s.type,
                *s.where_params,
                *s.where_params,
                s.type,
                s.type,
                s.key,
                CACHE_TOP,
                json.dumps(s.search),
                s.type,
                CACHE_MAX_ROWS,
            ],
        )

    @staticmethod
    def _result(total, hits_json, facets_json) -> Raw:
        hits_rows = json.loads(hits_json) if isinstance(hits_json, str) else hits_json
        facets = json.loads(facets_json) if isinstance(facets_json, str) else facets_json
        hits = [Hit(object_id=int(i), title=t, score=float(s or 0)) for i, t, s in hits_rows]
        return int(total), hits, ({key: int(n) for key, n in facets.items()} if facets is not None else None)

    def correction_candidates(self, word: str) -> list[tuple[str, int]]:
        # Trigrams find most misspellings; words of similar length sharing the first letter catch
        # short transpositions that share few trigrams ("galze" for "gauze").
        with connection.cursor() as cursor:
            cursor.execute(
                """
                (SELECT term, doc_count FROM search_searchterm WHERE term %% %s
                 ORDER BY similarity(term, %s) DESC, doc_count DESC LIMIT 20)
                UNION
                (SELECT term, doc_count FROM search_searchterm
                 WHERE term LIKE %s AND length(term) BETWEEN %s AND %s
                 ORDER BY doc_count DESC LIMIT 200)
                """,
                [word, word, word[0] + "%", len(word) - 2, len(word) + 2],
            )
            return list(cursor.fetchall())

    def completions(self, prefix: str, limit: int) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT term FROM search_searchterm WHERE term LIKE %s "
                "ORDER BY doc_count DESC, term LIMIT %s",
                [prefix + "%", limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def health(self) -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SELECT vector FROM search_searchdocument LIMIT 1")
            cursor.fetchall()
        return {"backend": self.name, "engine": "postgresql"}
