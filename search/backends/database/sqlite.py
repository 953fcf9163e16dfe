"""SQLite: an FTS5 table (porter stemming) ranked with bm25 and column weights; the embedded default.

Facet keys are a JSON list on the document row and are counted with json_each over the matches,
so facets never join to the owner app's tables either.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from search.backends.base import document_facet_keys, document_text_by_weight, facet_key
from search.backends.database.common import DatabaseBackend, Groups
from search.models import SearchDocument
from search.types import Document, DocumentType, Hit, SearchQuery, SortOrder

# bm25 weights of columns a-d (text of weight A-D).
BM25 = "bm25(search_fts, 10.0, 4.0, 2.0, 1.0)"
# Identical scores favour the closest match: the shortest title, then the title (binary, as
# PostgreSQL's COLLATE "C"), then the id.
ORDER_BY = {
    SortOrder.RELEVANCE: "score DESC, length(title), title, object_id",
    SortOrder.PRICE_LOW: "price IS NULL, price ASC, object_id",
    SortOrder.PRICE_HIGH: "price IS NULL, price DESC, object_id",
    SortOrder.TITLE: "title, object_id",
}
# Without words every score is the same: browsing (filters only) lists titles A to Z.
BROWSE_ORDER = "title, object_id"


def match_expression(groups: Groups) -> str:
    """An FTS5 query: alternatives ORed, groups ANDed; an alternative of several words ("anti
    embolism") needs all its words, in any order, as on PostgreSQL. Words are letters and digits only
    (see analysis.words) and each is quoted, so any input is literal."""

    def alternative(phrase: tuple[str, ...]) -> str:
        quoted = " AND ".join(f'"{word}"' for word in phrase)
        return f"({quoted})" if len(phrase) > 1 else quoted

    return " AND ".join("(" + " OR ".join(alternative(p) for p in group) + ")" for group in groups)


class SQLiteBackend(DatabaseBackend):
    vendor = "sqlite"

    def write_documents(self, document_type: DocumentType, documents: Sequence[Document]) -> None:
        SearchDocument.objects.bulk_create(
            [
                SearchDocument(
                    object_type=document_type.name,
                    object_id=d.object_id,
                    title=d.title[:300],
                    facets=document_facet_keys(d),
                    price=d.price,
                    version=d.version[:100],
                )
                for d in documents
            ],
            update_conflicts=True,
            unique_fields=["object_type", "object_id"],
            update_fields=["title", "facets", "price", "version", "indexed_at"],
            batch_size=500,
        )
        rows = dict(
            SearchDocument.objects.filter(
                object_type=document_type.name, object_id__in=[d.object_id for d in documents]
            ).values_list("object_id", "id")
        )
        self.delete_text(list(rows.values()))
        fts_rows = []
        for d in documents:
            text = document_text_by_weight(document_type, d)
            fts_rows.append((rows[d.object_id], text["A"], text["B"], text["C"], text["D"]))
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_fts (rowid, a, b, c, d) VALUES (%s, %s, %s, %s, %s)", fts_rows
            )

    def delete_text(self, row_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(row_ids), 500):
                chunk = row_ids[start : start + 500]
                cursor.execute(
                    f"DELETE FROM search_fts WHERE rowid IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
                    chunk,
                )

    def execute(
        self, document_type: DocumentType, query: SearchQuery, groups: Groups
    ) -> tuple[int, list[Hit], dict[str, int] | None]:
        params: list = []
        if groups:
            source = (
                f"SELECT d.object_id, d.title, d.price, d.facets, -{BM25} AS score "  # noqa: S608 - constant
                "FROM search_fts JOIN search_searchdocument d ON d.id = search_fts.rowid"
            )
            where = ["search_fts MATCH %s"]
            params.append(match_expression(groups))
        else:
            source = (
                "SELECT d.object_id, d.title, d.price, d.facets, 0.0 AS score FROM search_searchdocument d"
            )
            where = []
        where.append("d.object_type = %s")
        params.append(document_type.name)
        for name, values in query.filters.items():
            marks = ", ".join(["%s"] * len(values))
            where.append(f"EXISTS (SELECT 1 FROM json_each(d.facets) f WHERE f.value IN ({marks}))")  # noqa: S608
            params.extend(facet_key(name, v) for v in values)
        if query.price_min is not None:
            where.append("d.price >= %s")
            params.append(str(query.price_min))
        if query.price_max is not None:
            where.append("d.price <= %s")
            params.append(str(query.price_max))
        matches = f"{source} WHERE {' AND '.join(where)}"
        order = BROWSE_ORDER if not groups and query.sort == SortOrder.RELEVANCE else ORDER_BY[query.sort]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({matches})", params)  # noqa: S608
            total = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT object_id, title, score FROM ({matches}) ORDER BY {order} LIMIT %s OFFSET %s",  # noqa: S608
                [*params, query.limit, query.offset],
            )
            hits = [Hit(object_id=int(i), title=t, score=float(s or 0)) for i, t, s in cursor.fetchall()]
            counts = None
            if query.with_facets:
                cursor.execute(
                    f"SELECT f.value, count(*) FROM ({matches}) m, json_each(m.facets) f GROUP BY f.value",  # noqa: S608
                    params,
                )
                counts = dict(cursor.fetchall())
        return total, hits, counts

    def correction_candidates(self, word: str) -> list[tuple[str, int]]:
        # Words of similar length starting with the same letter (a range scan of the primary key);
        # edit distance picks among them. A wrong first letter is not corrected on SQLite.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT term, doc_count FROM search_searchterm WHERE term >= %s AND term < %s "
                "AND length(term) BETWEEN %s AND %s",
                [word[0], chr(ord(word[0]) + 1), len(word) - 2, len(word) + 2],
            )
            return list(cursor.fetchall())

    def completions(self, prefix: str, limit: int) -> list[str]:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT term FROM search_searchterm WHERE term >= %s AND term < %s "
                "ORDER BY doc_count DESC, term LIMIT %s",
                [prefix, upper, limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def health(self) -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid FROM search_fts LIMIT 1")
            cursor.fetchall()
        return {"backend": self.name, "engine": "sqlite"}
