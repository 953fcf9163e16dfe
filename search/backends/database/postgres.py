"""PostgreSQL: a stored, weighted tsvector with a GIN index; facets counted in the same statement.

One statement answers a search: the matches are materialised once (id, title, price, facet ids,
rank), then the page, the total and the facet counts are read from that set. Facet keys live on the
index row as integer ids (search_searchfacetvalue), so counting facets never joins to offers and
groups integers, whatever the number of matches.
Typos are corrected per word against the vocabulary (search_searchterm) with pg_trgm, then the
corrected words go through full-text search, which stays on the GIN index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, transaction

from search.backends.base import document_facet_keys, document_text_by_weight, facet_key
from search.backends.database.common import DatabaseBackend, Groups
from search.types import Document, DocumentType, Hit, SearchQuery, SortOrder

CONFIG = "english"
FACET_EXACT_LIMIT = 5_000
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
    (object_type, object_id, title, facet_ids, price, version, indexed_at, vector)
VALUES (%s, %s, %s, %s, %s, %s, now(),
        setweight(to_tsvector('{CONFIG}', %s), 'A') || setweight(to_tsvector('{CONFIG}', %s), 'B')
        || setweight(to_tsvector('{CONFIG}', %s), 'C') || setweight(to_tsvector('{CONFIG}', %s), 'D'))
ON CONFLICT (object_type, object_id) DO UPDATE SET
    title = EXCLUDED.title, facet_ids = EXCLUDED.facet_ids, price = EXCLUDED.price,
    version = EXCLUDED.version, indexed_at = EXCLUDED.indexed_at, vector = EXCLUDED.vector
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


class PostgresBackend(DatabaseBackend):
    vendor = "postgresql"
    facet_exact_limit = FACET_EXACT_LIMIT

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
                    text["A"],
                    text["B"],
                    text["C"],
                    text["D"],
                )
            )
        with connection.cursor() as cursor:
            cursor.executemany(UPSERT, rows)

    def rebuild(self, document_type: DocumentType, batches, progress=None) -> int:
        """Bulk loading with the GIN pending list on is many times faster; it is merged at the end
        and switched off again so that searches never scan a pending list."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("ALTER INDEX search_document_vector SET (fastupdate = on)")
            written = super().rebuild(document_type, batches, progress)
            with connection.cursor() as cursor:
                cursor.execute("SELECT gin_clean_pending_list('search_document_vector'::regclass)")
                cursor.execute("ALTER INDEX search_document_vector SET (fastupdate = off)")
        return written

    def delete_text(self, row_ids: list[int]) -> None:
        # The vector lives on the document row, which the caller deletes.
        return None

    def after_rebuild(self, document_type: DocumentType) -> None:
        # Fresh statistics so the planner sees the new vectors and vocabulary.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")
            cursor.execute("ANALYZE search_searchterm")

    def execute(
        self, document_type: DocumentType, query: SearchQuery, groups: Groups
    ) -> tuple[int, list[Hit], dict[str, int] | None]:
        where = ["d.object_type = %s"]
        where_params: list = [document_type.name]
        if groups:
            tsquery, tsquery_params = tsquery_sql(groups)
            where.append("d.vector @@ q.q")
            score = "ts_rank(d.vector, q.q, 1)"
        else:
            tsquery, tsquery_params = "NULL::tsquery", []
            score = "0.0"
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
            where_params.append(ids)
        if query.price_min is not None:
            where.append("d.price >= %s")
            where_params.append(query.price_min)
        if query.price_max is not None:
            where.append("d.price <= %s")
            where_params.append(query.price_max)
        order = BROWSE_ORDER if not groups and query.sort == SortOrder.RELEVANCE else ORDER_BY[query.sort]
        # unnest in the select list (ProjectSet) is several times faster than a lateral join here;
        # facet ids join their keys only after counting (a few hundred rows at most). Above
        # FACET_EXACT_LIMIT matches, facets are counted on an even sample of them and scaled: a
        # one-word query matching 40,000 products then costs what one matching 5,000 does.
        facets_sql = (
            "(SELECT coalesce(json_object_agg(v.key, f.n * st.step), '{}') "
            "FROM (SELECT greatest(1, ceil(count(*) / %s::numeric))::integer AS step FROM m) st "
            "CROSS JOIN LATERAL (SELECT k, count(*) AS n FROM "
            "(SELECT unnest(facet_ids) AS k FROM m WHERE m.id %% st.step = 0) u GROUP BY k) f "
            "JOIN search_searchfacetvalue v ON v.id = f.k)"
            if query.with_facets
            else "NULL"
        )
        # The matches keep only what ranking, sorting and counting need: the title (and its length)
        # breaks ties between identical scores and sorts by title.
        sql = f"""
            WITH q AS (SELECT {tsquery} AS q),
            m AS MATERIALIZED (
                SELECT d.id, d.object_id, d.price, d.facet_ids, {score} AS score,
                       d.title, char_length(d.title) AS title_length
                FROM search_searchdocument d CROSS JOIN q
                WHERE {" AND ".join(where)}
            )
            SELECT (SELECT count(*) FROM m),
                   (SELECT coalesce(json_agg(json_build_array(
                        p.object_id, p.title, p.score) ORDER BY {order}), '[]')
                    FROM (SELECT id, object_id, score, price, title, title_length FROM m
                          ORDER BY {order} LIMIT %s OFFSET %s) p),
                   {facets_sql}
        """  # noqa: S608 - only fixed fragments are formatted in; every value is a parameter
        with connection.cursor() as cursor:
            # JIT compilation costs more than it saves on statements this short (100+ ms at worst), and
            # the materialised matches of a common word outgrow the default 4 MB work_mem.
            cursor.execute("SELECT set_config('jit', 'off', false), set_config('work_mem', '64MB', false)")
            facet_params = [FACET_EXACT_LIMIT] if query.with_facets else []
            cursor.execute(sql, [*tsquery_params, *where_params, query.limit, query.offset, *facet_params])
            total, hits_json, facets_json = cursor.fetchone()
        hits_rows = json.loads(hits_json) if isinstance(hits_json, str) else hits_json
        facets = json.loads(facets_json) if isinstance(facets_json, str) else facets_json
        hits = [Hit(object_id=int(i), title=t, score=float(s or 0)) for i, t, s in hits_rows]
        if facets and int(total) > FACET_EXACT_LIMIT:
            facets = {key: min(int(n), int(total)) for key, n in facets.items()}
        return int(total), hits, facets

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
