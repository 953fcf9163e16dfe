"""Elasticsearch 8, built with the DSL that ships in the client (`elasticsearch.dsl`).

One index per document type behind an alias (`<prefix>-<type>`); `rebuild` fills a new dated index
(`<prefix>-<type>-20261124-101500`) and swaps the alias in one atomic call, so searches never see a
half-built index. Text is analysed in English; the NHS synonyms (search/synonyms/*.txt, the same files the
database backend reads) apply at search time through a synonym_graph filter; identifiers are keyword
fields; `title.autocomplete` is edge-n-grammed for suggestions; typos are matched with fuzziness AUTO.
Facets are composite aggregations over the whole result set, paged to their last value: exact on any
number of shards and for any number of values (a terms aggregation is approximate across shards and
stops at its size).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from elasticsearch import Elasticsearch, NotFoundError, helpers
from elasticsearch.dsl import A, Index, Mapping, Q, Search, analyzer, token_filter, tokenizer
from elasticsearch.dsl.field import Integer, Keyword, Long, ScaledFloat, Text

from search import analysis
from search.backends.base import Progress, SearchBackend, facet_results
from search.types import (
    Document,
    DocumentType,
    Hit,
    IdentifierMatch,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    SortOrder,
    Suggestion,
    Weight,
)

logger = logging.getLogger(__name__)

BOOST = {Weight.A: 4.0, Weight.B: 2.0, Weight.C: 1.5, Weight.D: 1.0}
# Buckets per composite aggregation page; a facet with more values is read page by page.
FACET_PAGE = 1_000
# Identical scores favour the closest match (shortest title, then title, then id), as on the database
# backends.
SORTS = {
    SortOrder.RELEVANCE: ["_score", {"title_length": "asc"}, {"title.sort": "asc"}, {"object_id": "asc"}],
    SortOrder.PRICE_LOW: [{"price": {"order": "asc", "missing": "_last"}}, {"object_id": "asc"}],
    SortOrder.PRICE_HIGH: [{"price": {"order": "desc", "missing": "_last"}}, {"object_id": "asc"}],
    SortOrder.TITLE: [{"title.sort": "asc"}, {"object_id": "asc"}],
}

english_possessive = token_filter("english_possessive", type="stemmer", language="possessive_english")
english_stop = token_filter("english_stop", type="stop", stopwords="_english_")
english_stemmer = token_filter("english_stemmer", type="stemmer", language="english")


def synonym_filter():
    return token_filter(
        "nhs_synonyms", type="synonym_graph", synonyms=list(analysis.synonyms().lines), lenient=True
    )


def analyzers() -> dict:
    index_english = analyzer(
        "nhs_english",
        tokenizer="standard",
        filter=[english_possessive, "lowercase", "asciifolding", english_stop, english_stemmer],
    )
    # Synonyms at search time only: synonym_graph produces a graph that indexing cannot store.
    search_english = analyzer(
        "nhs_english_search",
        tokenizer="standard",
        filter=[
            english_possessive,
            "lowercase",
            "asciifolding",
            synonym_filter(),
            english_stop,
            english_stemmer,
        ],
    )
    autocomplete = analyzer(
        "nhs_autocomplete",
        tokenizer=tokenizer(
            "nhs_edge_ngram", type="edge_ngram", min_gram=2, max_gram=20, token_chars=["letter", "digit"]
        ),
        filter=["lowercase", "asciifolding"],
    )
    autocomplete_search = analyzer(
        "nhs_autocomplete_search", tokenizer="standard", filter=["lowercase", "asciifolding"]
    )
    return {
        "index": index_english,
        "search": search_english,
        "autocomplete": autocomplete,
        "autocomplete_search": autocomplete_search,
    }


def text_field_name(name: str) -> str:
    return f"text_{name}"


def facet_field_name(name: str) -> str:
    return f"facet_{name}"


def build_index(document_type: DocumentType, name: str) -> Index:
    """The index definition (settings, analysis, mappings) for one document type."""
    a = analyzers()
    mapping = Mapping()
    mapping.field("object_id", Long())
    mapping.field(
        "title",
        Text(
            analyzer=a["index"],
            search_analyzer=a["search"],
            fields={
                "autocomplete": Text(analyzer=a["autocomplete"], search_analyzer=a["autocomplete_search"]),
                "sort": Keyword(ignore_above=256),
            },
        ),
    )
    mapping.field("title_length", Integer())
    for field in document_type.text_fields:
        mapping.field(text_field_name(field.name), Text(analyzer=a["index"], search_analyzer=a["search"]))
    mapping.field("codes", Keyword())
    for facet in document_type.facet_fields:
        mapping.field(facet_field_name(facet.name), Keyword())
    mapping.field("price", ScaledFloat(scaling_factor=10_000))
    mapping.field("version", Keyword(index=False))
    index = Index(name)
    index.settings(number_of_shards=1, number_of_replicas=0)
    for item in a.values():
        index.analyzer(item)
    index.mapping(mapping)
    return index


def document_source(document_type: DocumentType, document: Document) -> dict:
    source: dict = {
        "object_id": document.object_id,
        "title": document.title,
        "title_length": len(document.title),
        "codes": [analysis.normalise_code(c) for c in document.codes if c],
        "price": float(document.price) if document.price is not None else None,
        "version": document.version,
    }
    for field in document_type.text_fields:
        # Sizes gain their canonical words, as on the database backends ("10 cm x 10 cm" -> "100x100mm").
        source[text_field_name(field.name)] = analysis.index_text(document.text.get(field.name, ""))
    for facet in document_type.facet_fields:
        source[facet_field_name(facet.name)] = [str(v) for v in document.facets.get(facet.name, ())]
    return source


def facet_aggregation(facet_name: str, after: dict | None = None) -> A:
    """Every value of one facet with its document count, FACET_PAGE at a time, in value order."""
    params: dict = {
        "sources": [{"value": A("terms", field=facet_field_name(facet_name))}],
        "size": FACET_PAGE,
    }
    if after:
        params["after"] = after
    return A("composite", **params)


def matching(document_type: DocumentType, query: SearchQuery, index: str) -> Search:
    """The documents a checked query matches: its words (with synonyms, sizes and typo tolerance),
    filters and price range; no page, sort, facets or suggestions."""
    search = Search(index=index)
    # Sizes are canonical words on both sides (analysis.index_text in document_source); a size typed
    # without a unit ("10x10") matches any of its readings (cm, mm, as typed).
    typed = analysis.query_words(query.text)
    sizes = [w for w in typed if analysis.size_alternatives(w)]
    text = " ".join(w for w in typed if w not in sizes)
    fields = [f"{text_field_name(f.name)}^{BOOST[f.weight]}" for f in document_type.text_fields]
    clauses = [
        Q(
            "bool",
            should=[
                Q("multi_match", query=alternative, fields=fields, operator="and")
                for alternative in (size, *analysis.size_alternatives(size))
            ],
            minimum_should_match=1,
        )
        for size in sizes
    ]
    if text:
        exact = Q("multi_match", query=text, fields=fields, type="cross_fields", operator="and")
        # Fuzzy matching without synonyms (fuzziness and synonym graphs do not combine), scored lower.
        fuzzy = Q(
            "multi_match",
            query=text,
            fields=fields,
            type="best_fields",
            operator="and",
            fuzziness="AUTO",
            prefix_length=1,
            analyzer="nhs_english",
            boost=0.5,
        )
        clauses.insert(0, Q("bool", should=[exact, fuzzy], minimum_should_match=1))
    if clauses:
        search = search.query(clauses[0] if len(clauses) == 1 else Q("bool", must=clauses))
    else:
        search = search.query(Q("match_all"))
    for name, values in query.filters.items():
        search = search.filter("terms", **{facet_field_name(name): list(values)})
    if query.price_min is not None or query.price_max is not None:
        bounds = {}
        if query.price_min is not None:
            bounds["gte"] = float(query.price_min)
        if query.price_max is not None:
            bounds["lte"] = float(query.price_max)
        search = search.filter("range", price=bounds)
    return search


def build_search(document_type: DocumentType, query: SearchQuery, index: str) -> Search:
    """The request for a checked query: the matches, their exact total and facet counts, the page."""
    search = matching(document_type, query, index)
    typed = analysis.query_words(query.text)
    text = " ".join(w for w in typed if not analysis.size_alternatives(w))
    if text:
        search = search.suggest(
            "corrections",
            text,
            term={"field": text_field_name(document_type.text_fields[0].name), "suggest_mode": "missing"},
        )
    if query.with_facets:
        for facet in document_type.facet_fields:
            search.aggs.bucket(facet.name, facet_aggregation(facet.name))
    sort = SortOrder(query.sort)
    # Without words every score is the same: browsing lists titles A to Z.
    order = SORTS[SortOrder.TITLE] if not typed and sort == SortOrder.RELEVANCE else SORTS[sort]
    search = search.sort(*order).source(["object_id", "title"])
    return search.extra(from_=query.offset, size=query.limit, track_total_hits=True)


def build_facet_page(
    document_type: DocumentType, query: SearchQuery, index: str, facet_name: str, after: dict
) -> Search:
    """The next page of one facet's values for the same matches, when the first page was full."""
    search = matching(document_type, query, index)
    search.aggs.bucket(facet_name, facet_aggregation(facet_name, after))
    return search.extra(size=0, track_total_hits=False)


def build_autocomplete(text: str, index: str, limit: int) -> Search:
    """Titles whose words begin with what was typed, or (through the synonym filter of the title's
    search analyzer) that what was typed stands for: "ted" suggests anti-embolism stockings."""
    words = " ".join(analysis.words(analysis.normalise_query(text))[: analysis.MAX_WORDS])
    prefix = Q("match", **{"title.autocomplete": {"query": words, "operator": "and"}})
    synonyms = Q("match", title={"query": words, "operator": "and"})
    return (
        Search(index=index)
        .query(Q("bool", should=[prefix, synonyms], minimum_should_match=1))
        .source(["object_id", "title"])
        .extra(size=limit)
    )


def build_identifier(candidates: list[str], index: str) -> Search:
    return Search(index=index).filter("terms", codes=candidates).source(["object_id", "codes"]).extra(size=2)


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(
        self, *, url: str, prefix: str, client: Elasticsearch | None = None, refresh: bool | str = False
    ):
        self.prefix = prefix
        self.client = client or Elasticsearch(url, request_timeout=10, retry_on_timeout=True, max_retries=2)
        # Tests ask for "wait_for" so that a write is searchable when index() returns.
        self.refresh = refresh

    # Names -----------------------------------------------------------------------------------------
    def alias(self, object_type: str) -> str:
        return f"{self.prefix}-{object_type}".lower()

    def dated_name(self, object_type: str, now: datetime | None = None) -> str:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S-%f")
        return f"{self.alias(object_type)}-{stamp}"

    def ensure_index(self, document_type: DocumentType) -> str:
        alias = self.alias(document_type.name)
        if not self.client.indices.exists_alias(name=alias):
            name = self.dated_name(document_type.name)
            build_index(document_type, name).create(using=self.client)
            self.client.indices.put_alias(index=name, name=alias)
        return alias

    # Writing -----------------------------------------------------------------------------------------
    def _bulk(self, actions: Iterable[dict], refresh: bool | str | None = None) -> int:
        ok, errors = helpers.bulk(
            self.client,
            actions,
            raise_on_error=False,
            refresh=self.refresh if refresh is None else refresh,
            chunk_size=1000,
        )
        real = [e for e in errors if next(iter(e.values())).get("status") != 404]
        if real:
            raise SearchUnavailable(f"Elasticsearch refused {len(real)} documents: {str(real[0])[:300]}")
        return ok

    def index(self, document_type: DocumentType, documents: Sequence[Document]) -> int:
        if not documents:
            return 0
        alias = self.ensure_index(document_type)
        return self._bulk(
            {
                "_op_type": "index",
                "_index": alias,
                "_id": str(d.object_id),
                "_source": document_source(document_type, d),
            }
            for d in documents
        )

    def delete(self, object_type: str, object_ids: Sequence[int]) -> int:
        alias = self.alias(object_type)
        if not object_ids or not self.client.indices.exists_alias(name=alias):
            return 0
        ids = [str(i) for i in object_ids]
        found = self.client.mget(index=alias, ids=ids, source=False)
        present = [doc["_id"] for doc in found["docs"] if doc.get("found")]
        self._bulk({"_op_type": "delete", "_index": alias, "_id": i} for i in present)
        return len(present)

    def clear(self, object_type: str) -> None:
        alias = self.alias(object_type)
        if self.client.indices.exists_alias(name=alias):
            self.client.delete_by_query(
                index=alias, query={"match_all": {}}, refresh=True, conflicts="proceed"
            )

    def rebuild(
        self,
        document_type: DocumentType,
        batches: Iterable[Sequence[Document]],
        progress: Progress | None = None,
    ) -> int:
        """A new dated index, filled without refreshes, then the alias moves to it atomically."""
        alias = self.alias(document_type.name)
        name = self.dated_name(document_type.name)
        index = build_index(document_type, name)
        index.settings(refresh_interval="-1")
        index.create(using=self.client)
        written = 0
        try:
            for batch in batches:
                written += self._bulk(
                    (
                        {
                            "_op_type": "index",
                            "_index": name,
                            "_id": str(d.object_id),
                            "_source": document_source(document_type, d),
                        }
                        for d in batch
                    ),
                    refresh=False,
                )
                if progress:
                    progress(written)
            self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": "1s"}})
            self.client.indices.refresh(index=name)
        except Exception:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        old = (
            list(self.client.indices.get_alias(name=alias).keys())
            if self.client.indices.exists_alias(name=alias)
            else []
        )
        actions = [{"remove": {"index": i, "alias": alias}} for i in old] + [
            {"add": {"index": name, "alias": alias}}
        ]
        self.client.indices.update_aliases(actions=actions)
        for i in old:
            self.client.indices.delete(index=i, ignore_unavailable=True)
        return written

    # Reading -----------------------------------------------------------------------------------------
    def run_search(self, document_type: DocumentType, query: SearchQuery) -> SearchResults:
        alias = self.alias(document_type.name)
        try:
            response = build_search(document_type, query, alias).using(self.client).execute()
        except NotFoundError:
            return SearchResults(hits=[], total=0, offset=query.offset, limit=query.limit)
        hits = [
            Hit(object_id=int(h.object_id), title=h.title, score=float(h.meta.score or 0)) for h in response
        ]
        counts = self._facet_counts(document_type, query, alias, response) if query.with_facets else {}
        corrected = self._corrected(query.text, response)
        analysed = analysis.analyse(query.text, {})
        return SearchResults(
            hits=hits,
            total=int(response.hits.total.value),
            facets=facet_results(document_type, counts) if query.with_facets else {},
            corrected_text=corrected,
            highlight_terms=analysed.highlight_terms + tuple((corrected or "").split()),
            offset=query.offset,
            limit=query.limit,
        )

    def _facet_counts(self, document_type: DocumentType, query: SearchQuery, alias: str, response) -> dict:
        """Every facet value's exact count: the first page of each facet comes with the search, a full
        page means there may be more, read with follow-up requests from where it stopped."""
        counts: dict[str, int] = {}
        for facet in document_type.facet_fields:
            aggregation = response.aggregations[facet.name]
            while True:
                for bucket in aggregation.buckets:
                    counts[f"{facet.name}:{bucket.key.value}"] = bucket.doc_count
                after = getattr(aggregation, "after_key", None)
                if len(aggregation.buckets) < FACET_PAGE or not after:
                    break
                page = build_facet_page(document_type, query, alias, facet.name, after.to_dict())
                aggregation = page.using(self.client).execute().aggregations[facet.name]
        return counts

    @staticmethod
    def _corrected(text: str, response) -> str | None:
        suggestions = getattr(getattr(response, "suggest", None), "corrections", None)
        if not suggestions:
            return None
        replaced = {s.text: s.options[0].text for s in suggestions if s.options}
        if not replaced:
            return None
        return " ".join(replaced.get(w, w) for w in analysis.words(text)[: analysis.MAX_WORDS])

    def autocomplete(self, document_type: DocumentType, text: str, limit: int = 8) -> list[Suggestion]:
        if not analysis.words(text):
            return []
        try:
            response = (
                build_autocomplete(text, self.alias(document_type.name), limit).using(self.client).execute()
            )
        except NotFoundError:
            return []
        return [Suggestion(object_id=int(h.object_id), title=h.title) for h in response]

    def find_identifier(self, object_type: str, text: str) -> IdentifierMatch | None:
        candidates = analysis.code_candidates(text)
        if not candidates:
            return None
        try:
            response = build_identifier(candidates, self.alias(object_type)).using(self.client).execute()
        except NotFoundError:
            return None
        if len(response.hits) != 1:
            return None
        return IdentifierMatch(
            object_type=object_type, object_id=int(response.hits[0].object_id), code=candidates[0]
        )

    def indexed_versions(self, object_type: str) -> dict[int, str]:
        alias = self.alias(object_type)
        if not self.client.indices.exists_alias(name=alias):
            return {}
        return {
            int(hit["_source"]["object_id"]): hit["_source"].get("version", "")
            for hit in helpers.scan(
                self.client, index=alias, query={"query": {"match_all": {}}}, _source=["object_id", "version"]
            )
        }

    def health(self) -> dict:
        if not self.client.ping():
            raise SearchUnavailable("Elasticsearch does not answer.")
        health = self.client.cluster.health()
        return {"backend": self.name, "engine": "elasticsearch", "cluster": health["status"]}
