"""The configured backend: settings.SEARCH_BACKEND picks 'database' (by vendor) or 'elasticsearch'."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from search.backends.base import SearchBackend


def get_backend() -> SearchBackend:
    if settings.SEARCH_BACKEND == "elasticsearch":
        return _elasticsearch(settings.ELASTICSEARCH_URL, settings.ELASTICSEARCH_INDEX_PREFIX)
    from search.backends.database import backend_for_connection

    return backend_for_connection()


@cache
def _elasticsearch(url: str, prefix: str) -> SearchBackend:
    # One client per process: it keeps a connection pool.
    from search.backends.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(url=url, prefix=prefix)
