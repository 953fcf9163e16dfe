"""Read-only entry points of the search app: search, autocomplete, identifiers, health."""

from __future__ import annotations

import logging

from django.conf import settings

from search import analysis, registry
from search.backends import get_backend
from search.types import (
    IdentifierMatch,
    InvalidSearch,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    Suggestion,
)

logger = logging.getLogger(__name__)


def index_cache_namespace(object_type: str) -> str:
    """The shared cache's namespace (`common.caching`) of what was read from this type's index: its
    version moves whenever the index is written, so results kept by a caller never outlive it."""
    return f"search-index:{object_type}"


def search(query: SearchQuery) -> SearchResults:
    """One page of results with the total, facet counts and any typo correction.

    Raises InvalidSearch (the caller's mistake, a 400) or SearchUnavailable (the engine's, a 503)."""
    document_type = registry.get(query.object_type)
    try:
        return get_backend().search(document_type, query)
    except InvalidSearch:
        raise
    except Exception as exc:
        logger.exception("Search failed for %r", query.text[:100])
        raise SearchUnavailable("Search is not available at the moment.") from exc


class LazyResults:
    """Sliceable results that ask the engine only for the slice used: results[20:40]."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        self._page: SearchResults | None = None

    def __getitem__(self, key: slice) -> SearchResults:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("Search results are sliced with [start:stop].")
        start = key.start or 0
        stop = key.stop if key.stop is not None else start + self.query.limit
        page = SearchQuery(**{**self.query.__dict__, "offset": start, "limit": max(stop - start, 1)})
        return search(page)

    def count(self) -> int:
        if self._page is None:
            self._page = search(SearchQuery(**{**self.query.__dict__, "limit": 1, "with_facets": False}))
        return self._page.total


def search_lazy(query: SearchQuery) -> LazyResults:
    return LazyResults(query)


def autocomplete(text: str, *, object_type: str = "product", limit: int = 8) -> list[Suggestion]:
    """Titles completing what has been typed; empty (never an error) when the engine is down."""
    document_type = registry.get(object_type)
    if len(analysis.clean_query(text)) < 2:
        return []
    try:
        return get_backend().autocomplete(document_type, text, limit=min(max(limit, 1), 20))
    except Exception:
        logger.exception("Autocomplete failed for %r", text[:100])
        return []


def find_identifier(text: str, *, object_type: str = "product") -> IdentifierMatch | None:
    """The one object whose GTIN, NPC, SKU or part number is exactly what was typed."""
    registry.get(object_type)
    if not analysis.code_candidates(text):
        return None
    try:
        return get_backend().find_identifier(object_type, text)
    except Exception as exc:
        logger.exception("Identifier lookup failed for %r", text[:100])
        raise SearchUnavailable("Search is not available at the moment.") from exc


def backend_health() -> dict:
    """The configured search backend's state, for /healthz. Raises if the engine is unreachable."""
    return {"backend": settings.SEARCH_BACKEND, **get_backend().health()}
