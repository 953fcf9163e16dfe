"""Commands of the search app: keep the index in step with the apps that declare documents."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from common.caching import shared_changed
from search import registry
from search.backends import get_backend
from search.selectors import index_cache_namespace
from search.types import Document, DocumentType

logger = logging.getLogger(__name__)
TASK_CHUNK = 500


@dataclass(frozen=True)
class IndexOutcome:
    indexed: int
    deleted: int


def index_documents(*, object_type: str, object_ids: Sequence[int]) -> IndexOutcome:
    """Index these objects as their owner describes them now; objects no longer searchable are removed."""
    document_type = registry.get(object_type)
    ids = sorted({int(i) for i in object_ids})
    documents = list(document_type.load(ids))
    present = {d.object_id for d in documents}
    backend = get_backend()
    indexed = backend.index(document_type, documents)
    missing = [i for i in ids if i not in present]
    deleted = backend.delete(object_type, missing) if missing else 0
    shared_changed(index_cache_namespace(object_type))
    return IndexOutcome(indexed=indexed, deleted=deleted)


def delete_documents(*, object_type: str, object_ids: Sequence[int]) -> int:
    registry.get(object_type)
    deleted = get_backend().delete(object_type, [int(i) for i in object_ids])
    shared_changed(index_cache_namespace(object_type))  # after the write: see common.caching
    return deleted


def _batches(document_type: DocumentType, ids: list[int], batch_size: int) -> Iterator[list[Document]]:
    for start in range(0, len(ids), batch_size):
        yield list(document_type.load(ids[start : start + batch_size]))


def rebuild_index(
    *, object_type: str, batch_size: int = 1000, progress: Callable[[int, int], None] | None = None
) -> int:
    """Rebuild the whole index of one type (Elasticsearch: a new index, then the alias swaps), then make
    the broadest searches' results ahead (`SearchBackend.warm`)."""
    document_type = registry.get(object_type)
    ids = sorted(object_id for object_id, _ in document_type.versions())
    total = len(ids)
    backend = get_backend()
    rebuilt = backend.rebuild(
        document_type,
        _batches(document_type, ids, batch_size),
        (lambda done: progress(done, total)) if progress else None,
    )
    shared_changed(index_cache_namespace(object_type))
    # The broadest words' results made now, not by the first buyers to search them.
    backend.warm(document_type)
    return rebuilt


@dataclass(frozen=True)
class Drift:
    object_type: str
    stale: int
    missing: int
    extra: int
    indexed: int
    deleted: int


def reconcile_index(*, object_type: str, batch_size: int = 1000, expected: bool = False) -> Drift:
    """Compare the owner's versions with the index's and repair what differs (lost or failed updates),
    then let the backend compact what was written since the last time (PostgreSQL's facet bitmaps) and
    make the broadest searches' results ahead (`SearchBackend.warm`).

    Drift is a warning (updates were lost), unless the caller `expected` the index to be behind (after
    a bulk write that fires no signals, such as the demo seed): then the repair is logged as info.
    """
    document_type = registry.get(object_type)
    backend = get_backend()
    current = dict(document_type.versions())
    indexed_versions = backend.indexed_versions(object_type)
    missing = [i for i in current if i not in indexed_versions]
    stale = [i for i, v in current.items() if i in indexed_versions and indexed_versions[i] != v]
    extra = [i for i in indexed_versions if i not in current]
    to_index = sorted(missing + stale)
    written = 0
    for start in range(0, len(to_index), batch_size):
        written += backend.index(
            document_type, list(document_type.load(to_index[start : start + batch_size]))
        )
    deleted = backend.delete(object_type, extra) if extra else 0
    backend.compact(document_type)
    # The broadest words' results forgotten by the compaction (not searched since the last one) are
    # made again now, not by the next buyer to search them.
    backend.warm(document_type)
    if to_index or extra:
        shared_changed(index_cache_namespace(object_type))
        logger.log(
            logging.INFO if expected else logging.WARNING,
            "Search index %s for %s: %d missing, %d stale, %d extra",
            "brought up to date" if expected else "drift repaired",
            object_type,
            len(missing),
            len(stale),
            len(extra),
        )
    return Drift(object_type, len(stale), len(missing), len(extra), written, deleted)


# Indexing on commit ----------------------------------------------------------------------------
# Changes are collected per transaction and sent as one task per type when it commits, so a bulk
# import of 5,000 offers queues a handful of tasks, not 5,000.
_pending = threading.local()


def _enqueue(object_type: str, object_ids: list[int]) -> None:
    from search.tasks import index_objects

    for start in range(0, len(object_ids), TASK_CHUNK):
        chunk = object_ids[start : start + TASK_CHUNK]
        try:
            index_objects.delay(object_type, chunk)
        except Exception:
            # The broker or the engine is down: the save stands and the reconcile task catches up.
            logger.exception("Could not queue search indexing of %s %s", object_type, chunk[:10])


def schedule_index(*, object_type: str, object_ids: Sequence[int]) -> None:
    """Reindex these objects once the current transaction commits (at once outside a transaction)."""
    ids = {int(i) for i in object_ids if i is not None}
    if not ids:
        return
    if not connection.in_atomic_block:
        _enqueue(object_type, sorted(ids))
        return
    buffer: dict[str, set[int]] | None = getattr(_pending, "buffer", None)
    callback = getattr(_pending, "callback", None)
    # The callback may have been discarded by a rollback; then start a new buffer.
    registered = callback is not None and any(entry[1] is callback for entry in connection.run_on_commit)
    if buffer is None or not registered:
        buffer = {}
        _pending.buffer = buffer

        def flush(buffer: dict[str, set[int]] = buffer) -> None:
            if getattr(_pending, "buffer", None) is buffer:
                _pending.buffer = None
                _pending.callback = None
            for name, pending_ids in buffer.items():
                _enqueue(name, sorted(pending_ids))

        _pending.callback = flush
        transaction.on_commit(flush, robust=True)
    buffer.setdefault(object_type, set()).update(ids)
