"""What the PostgreSQL and SQLite backends share: rows, identifiers, vocabulary and typo correction."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from django.db import connection, transaction

from search import analysis
from search.backends.base import (
    SearchBackend,
    facet_results,
    vocabulary_words,
)
from search.models import SearchCode, SearchDocument, SearchTerm
from search.types import (
    Document,
    DocumentType,
    Hit,
    IdentifierMatch,
    SearchQuery,
    SearchResults,
    Suggestion,
)

Groups = tuple[tuple[tuple[str, ...], ...], ...]
AUTOCOMPLETE_COMPLETIONS = 6
AUTOCOMPLETE_ALTERNATIVES = 40


class DatabaseBackend(SearchBackend):
    name = "database"
    vendor = ""

    # Vendor hooks --------------------------------------------------------------------------------
    @abstractmethod
    def write_documents(self, document_type: DocumentType, documents: Sequence[Document]) -> None:
        """Upsert rows of search_searchdocument and the vendor's text index for them."""

    @abstractmethod
    def delete_text(self, row_ids: list[int]) -> None:
        """Remove the vendor's text index entries for these document rows."""

    @abstractmethod
    def execute(
        self, document_type: DocumentType, query: SearchQuery, groups: Groups
    ) -> tuple[int, list[Hit], dict[str, int] | None]:
        """(total, hits of the page, raw facet counts) for the groups (all must match) and filters."""

    @abstractmethod
    def correction_candidates(self, word: str) -> list[tuple[str, int]]:
        """Vocabulary words near `word`, with their document counts."""

    @abstractmethod
    def completions(self, prefix: str, limit: int) -> list[str]:
        """The most common vocabulary words starting with `prefix`."""

    # Writing -------------------------------------------------------------------------------------
    def index(self, document_type: DocumentType, documents: Sequence[Document]) -> int:
        return self._index(document_type, documents, vocabulary=None)

    def _index(
        self, document_type: DocumentType, documents: Sequence[Document], vocabulary: dict[str, int] | None
    ) -> int:
        """Write documents and identifiers; words go to `vocabulary` when given, else to the table."""
        documents = list({d.object_id: d for d in documents}.values())
        if not documents:
            return 0
        ids = [d.object_id for d in documents]
        with transaction.atomic():
            self.write_documents(document_type, documents)
            SearchCode.objects.filter(object_type=document_type.name, object_id__in=ids).delete()
            SearchCode.objects.bulk_create(
                [
                    SearchCode(code=code, object_type=document_type.name, object_id=d.object_id)
                    for d in documents
                    for code in dict.fromkeys(analysis.normalise_code(c) for c in d.codes if c)
                    if code and len(code) <= 64
                ],
                batch_size=2000,
            )
            words: dict[str, int] = {} if vocabulary is None else vocabulary
            for d in documents:
                for w in vocabulary_words(d):
                    words[w] = words.get(w, 0) + 1
            if vocabulary is None:
                # Incremental indexing only adds new words; counts are made exact by a rebuild.
                SearchTerm.objects.bulk_create(
                    [SearchTerm(term=w, doc_count=n) for w, n in words.items()],
                    ignore_conflicts=True,
                    batch_size=2000,
                )
        return len(documents)

    def rebuild(self, document_type: DocumentType, batches, progress=None) -> int:
        """One transaction: searches keep seeing the old index until the new one is complete."""
        with transaction.atomic():
            self.clear(document_type.name)
            vocabulary: dict[str, int] = {}
            written = 0
            for batch in batches:
                written += self._index(document_type, batch, vocabulary=vocabulary)
                if progress:
                    progress(written)
            SearchTerm.objects.all().delete()
            SearchTerm.objects.bulk_create(
                [SearchTerm(term=w, doc_count=n) for w, n in vocabulary.items()], batch_size=2000
            )
        self.after_rebuild(document_type)
        return written

    def delete(self, object_type: str, object_ids: Sequence[int]) -> int:
        ids = list(object_ids)
        with transaction.atomic():
            rows = list(
                SearchDocument.objects.filter(object_type=object_type, object_id__in=ids).values_list(
                    "id", flat=True
                )
            )
            if rows:
                self.delete_text(rows)
            SearchCode.objects.filter(object_type=object_type, object_id__in=ids).delete()
            SearchDocument.objects.filter(id__in=rows).delete()
        return len(rows)

    def clear(self, object_type: str) -> None:
        with transaction.atomic():
            rows = list(SearchDocument.objects.filter(object_type=object_type).values_list("id", flat=True))
            if rows:
                self.delete_text(rows)
            SearchCode.objects.filter(object_type=object_type).delete()
            SearchDocument.objects.filter(object_type=object_type).delete()
            SearchTerm.objects.all().delete()

    # Reading -------------------------------------------------------------------------------------
    def corrections(self, tokens: Sequence[str]) -> dict[str, str]:
        synonym_words = {w for phrase in analysis.synonyms().groups for w in phrase}
        candidates = [t for t in dict.fromkeys(tokens) if analysis.correctable(t) and t not in synonym_words]
        if not candidates:
            return {}
        known = set(SearchTerm.objects.filter(term__in=candidates).values_list("term", flat=True))
        out = {}
        for word in candidates:
            if word in known:
                continue
            fixed = analysis.best_correction(word, self.correction_candidates(word))
            if fixed:
                out[word] = fixed
        return out

    def run_search(self, document_type: DocumentType, query: SearchQuery) -> SearchResults:
        tokens = analysis.query_words(query.text)
        fixes = self.corrections(tokens) if query.correct_typos else {}
        analysed = analysis.analyse(query.text, fixes)
        total, hits, counts = self.execute(document_type, query, analysed.groups)
        return SearchResults(
            hits=hits,
            total=total,
            facets=facet_results(document_type, counts) if counts is not None else {},
            corrected_text=analysed.corrected_text,
            highlight_terms=analysed.highlight_terms,
            offset=query.offset,
            limit=query.limit,
        )

    def autocomplete(self, document_type: DocumentType, text: str, limit: int = 8) -> list[Suggestion]:
        tokens = analysis.words(analysis.normalise_query(text))[: analysis.MAX_WORDS]
        if not tokens or len(tokens[-1]) < 2:
            return []
        *head, last = tokens
        completions = self.completions(last, AUTOCOMPLETE_COMPLETIONS)
        table = analysis.synonyms()
        groups = table.expand(head) if head else []
        # The last word as typed, the indexed words it begins, and what each of them (and synonym
        # terms it begins) stands for: "ted" suggests anti-embolism stockings, "venf" cannulas.
        alternatives: list[tuple[str, ...]] = [(last,), *((c,) for c in completions)]
        for word in [last, *completions]:
            alternatives += table.groups.get((word,), ())
        alternatives += analysis.synonym_completions(last)
        alternatives += [(size,) for size in analysis.size_alternatives(last)]
        last_group = tuple(dict.fromkeys(alternatives))[:AUTOCOMPLETE_ALTERNATIVES]
        query = SearchQuery(text=text, object_type=document_type.name, limit=limit, with_facets=False)
        _, hits, _ = self.execute(document_type, query, (*(tuple(g) for g in groups), last_group))
        return [Suggestion(object_id=h.object_id, title=h.title) for h in hits]

    def find_identifier(self, object_type: str, text: str) -> IdentifierMatch | None:
        candidates = analysis.code_candidates(text)
        if not candidates:
            return None
        matches = list(
            SearchCode.objects.filter(object_type=object_type, code__in=candidates)
            .values_list("object_id", "code")
            .distinct()[:2]
        )
        if len({object_id for object_id, _ in matches}) != 1:
            return None
        object_id, code = matches[0]
        return IdentifierMatch(object_type=object_type, object_id=object_id, code=code)

    def indexed_versions(self, object_type: str) -> dict[int, str]:
        return dict(
            SearchDocument.objects.filter(object_type=object_type)
            .values_list("object_id", "version")
            .iterator()
        )

    def health(self) -> dict:
        SearchDocument.objects.only("id").first()
        return {"backend": self.name, "engine": connection.vendor}
