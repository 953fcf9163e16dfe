"""The one interface every search backend implements, and the capability contract they share.

Backends receive documents already flattened by their owner app (`search.types.Document`) and answer
`SearchQuery`s with `SearchResults`. Queries are checked here, before any engine runs, so every
backend refuses the same bad input with the same `InvalidSearch`.

Capability contract (tests/contracts/search.py checks each item against every backend):
- ranking: a word in a title outranks the same word in a description (weights A > B > C > D);
  identical scores favour the shortest title, then the title, then the id; no words lists titles A-Z;
- synonyms: groups from search/synonyms/*.txt match each other ("TED" finds anti-embolism stockings);
- typos: a word within one edit (two for long words) of an indexed word is corrected ("wheelchiar");
- identifiers: an exact GTIN (GTIN-13 finds the stored GTIN-14), NPC, SKU or part number finds its object;
- facets: exact counts per declared facet over all matches, not only the page shown, however many;
- filters: any of the values within a facet, all facets together, price range;
- sorting: relevance, price both ways, title;
- pagination: offset/limit slices with a stable order and the total of all matches;
- deletion: a deleted document is gone from results, facets and identifiers;
- bad input: empty, punctuation-only, very long, syntax characters: an empty or normal result, never an error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from search import analysis
from search.types import (
    Document,
    DocumentType,
    FacetCount,
    IdentifierMatch,
    InvalidSearch,
    SearchQuery,
    SearchResults,
    SortOrder,
    Suggestion,
)

CAPABILITIES = frozenset(
    {
        "ranking",
        "synonyms",
        "typos",
        "identifiers",
        "facets",
        "filters",
        "sorting",
        "pagination",
        "deletion",
        "autocomplete",
    }
)
MAX_LIMIT = 100
# Deep pages cost every engine more; nobody reads past the 500th page of 20.
MAX_OFFSET = 10_000
MAX_FILTER_VALUES = 50

Progress = Callable[[int], None]


def check_query(document_type: DocumentType, query: SearchQuery) -> SearchQuery:
    """The query as the engine will run it, or InvalidSearch naming the field at fault."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidSearch("limit", f"Ask for between 1 and {MAX_LIMIT} results at a time.")
    if not 0 <= query.offset <= MAX_OFFSET:
        raise InvalidSearch("offset", f"Results can be paged up to {MAX_OFFSET:,} results deep.")
    try:
        sort = SortOrder(query.sort)
    except ValueError:
        allowed = ", ".join(s.value for s in SortOrder)
        raise InvalidSearch("sort", f"Sort by one of: {allowed}.") from None
    filters: dict[str, tuple[str, ...]] = {}
    for name, values in query.filters.items():
        if document_type.facet(name) is None:
            known = ", ".join(f.name for f in document_type.facet_fields)
            raise InvalidSearch(name, f"{name!r} is not a filter. Filters: {known}.")
        cleaned = tuple(dict.fromkeys(str(v).strip()[:100] for v in values if str(v).strip()))
        if len(cleaned) > MAX_FILTER_VALUES:
            raise InvalidSearch(name, f"Choose at most {MAX_FILTER_VALUES} values for {name}.")
        if cleaned:
            filters[name] = cleaned
    if query.price_min is not None and query.price_max is not None and query.price_min > query.price_max:
        raise InvalidSearch("price_min", "The minimum price is above the maximum price.")
    return replace(query, sort=sort, filters=filters, text=analysis.clean_query(query.text))


def facet_key(name: str, value: str) -> str:
    return f"{name}:{value}"


def facet_results(document_type: DocumentType, counts: dict[str, int]) -> dict[str, list[FacetCount]]:
    """Raw "name:value" counts as ordered facet lists for each declared facet (most common first)."""
    out: dict[str, list[FacetCount]] = {f.name: [] for f in document_type.facet_fields}
    for key, count in counts.items():
        name, _, value = key.partition(":")
        facet = document_type.facet(name)
        if facet is not None and count:
            out[name].append(
                FacetCount(value=value, count=int(count), label=facet.value_labels.get(value, ""))
            )
    for name in out:
        out[name].sort(key=lambda f: (-f.count, f.value))
    return out


def document_facet_keys(document: Document) -> list[str]:
    return [facet_key(name, str(v)) for name, values in document.facets.items() for v in values]


def document_text_by_weight(document_type: DocumentType, document: Document) -> dict[str, str]:
    """The document's text grouped by weight letter: {'A': 'name', 'B': 'maker codes', ...}, with the
    canonical words of its sizes (analysis.index_text), as queries are analysed."""
    parts: dict[str, list[str]] = {"A": [], "B": [], "C": [], "D": []}
    for name, text in document.text.items():
        if text:
            parts[document_type.weight_of(name).value].append(analysis.index_text(text))
    return {weight: " ".join(texts) for weight, texts in parts.items()}


def vocabulary_words(document: Document) -> set[str]:
    words = set(analysis.words(document.title))
    for text in document.text.values():
        words.update(analysis.words(text))
    return {
        w
        for w in words
        if len(w) >= analysis.MIN_VOCABULARY_WORD and len(w) <= 100 and not any(ch.isdigit() for ch in w)
    }


class SearchBackend(ABC):
    name: str = ""
    capabilities: frozenset[str] = CAPABILITIES

    # Writing -----------------------------------------------------------------------------------
    @abstractmethod
    def index(self, document_type: DocumentType, documents: Sequence[Document]) -> int:
        """Add or replace these documents; returns how many were written."""

    @abstractmethod
    def delete(self, object_type: str, object_ids: Sequence[int]) -> int:
        """Remove these documents (missing ones are ignored); returns how many were removed."""

    def rebuild(
        self,
        document_type: DocumentType,
        batches: Iterable[Sequence[Document]],
        progress: Progress | None = None,
    ) -> int:
        """Replace the whole index of this type. Engines that can swap an alias override this."""
        self.clear(document_type.name)
        written = 0
        for batch in batches:
            written += self.index(document_type, batch)
            if progress:
                progress(written)
        self.after_rebuild(document_type)
        return written

    def after_rebuild(self, document_type: DocumentType) -> None:  # noqa: B027 - optional hook
        """Housekeeping once a rebuild is written (statistics, vocabulary counts)."""

    def compact(self, document_type: DocumentType) -> None:  # noqa: B027 - optional hook
        """Fold what was written since the last time into structures that keep reads fast (PostgreSQL's
        facet bitmaps); results are the same before and after. Run by the reconcile beat task."""

    def warm(self, document_type: DocumentType) -> list[str]:
        """Make ahead what the broadest searches would otherwise make on their first search (PostgreSQL's
        kept results); returns the words searched. Run after a rebuild and after each compaction."""
        return []

    @abstractmethod
    def clear(self, object_type: str) -> None:
        """Remove every document of this type."""

    # Reading -----------------------------------------------------------------------------------
    def search(self, document_type: DocumentType, query: SearchQuery) -> SearchResults:
        query = check_query(document_type, query)
        return self.run_search(document_type, query)

    @abstractmethod
    def run_search(self, document_type: DocumentType, query: SearchQuery) -> SearchResults:
        """Run a checked query."""

    @abstractmethod
    def autocomplete(self, document_type: DocumentType, text: str, limit: int = 8) -> list[Suggestion]:
        """Titles that complete what has been typed so far."""

    @abstractmethod
    def find_identifier(self, object_type: str, text: str) -> IdentifierMatch | None:
        """The one object whose identifier is exactly `text`, if there is exactly one."""

    @abstractmethod
    def indexed_versions(self, object_type: str) -> dict[int, str]:
        """{object_id: version} of everything in the index, for drift reconciliation."""

    @abstractmethod
    def health(self) -> dict:
        """A small dict for /healthz; raises if the engine cannot answer."""
