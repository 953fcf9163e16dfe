"""Two caches, one definition each.

`request_memo`: a lookup done once per request (the acting organisation's memberships, a category a
page and its selectors both need), kept on the request itself, so it dies with it and no user ever
sees another's. A DRF request and the Django request under it share one memo.

`shared_cached`: something every user sees alike (a category tree, a product's description and
offers, a page of search hits), kept in the configured cache (Redis when REDIS_URL is set, local
memory otherwise) under a version per namespace. Whoever changes what a namespace holds calls
`shared_changed(namespace)` in the changing transaction; the version moves at once and again when
it commits (a reader between the write and the commit reads the old rows and may keep them under
the first new version; the second drops them), so the next read misses and recomputes. Entries of
old versions are never read again and expire.

Nothing that depends on who asks (a price for a buyer, a patient's eligibility, a basket) may be
kept under a key every user reads: cache the public rows and compute the buyer's part on every
request. What belongs to one user or one trust (a user's memberships, a trust's contract prices) may
be kept under a key naming them, read only when acting for them, and only in a namespace that every
write of it moves.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from functools import partial
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, transaction

T = TypeVar("T")

_REQUEST_MEMO = "_request_memo"
_MISSING = object()
# Old versions' entries are dropped by this timeout; it also bounds how long something that changes
# without a write (an offer passing its end date before the daily task) could be shown.
SHARED_TIMEOUT = 300


def _base(request: Any) -> Any:
    """The Django request under a DRF one, so both share one memo."""
    return getattr(request, "_request", request)


def request_memo(request: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per request and `key` (a tuple whose first item names the lookup)."""
    memo = _base(request).__dict__.setdefault(_REQUEST_MEMO, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def request_forget(request: Any, name: str) -> None:
    """Forget this request's memos of one lookup (its choice changed within the request)."""
    memo = _base(request).__dict__.get(_REQUEST_MEMO, {})
    for key in [k for k in memo if (k[0] if isinstance(k, tuple) else k) == name]:
        del memo[key]


def _version_key(namespace: str) -> str:
    return f"shared:{namespace}:version"


# Within one request the namespaces' versions are read once, all together (a warm page reads four
# or five namespaces through as many `shared_cached` calls: one round trip to Redis instead of one
# each). The memo lives from `request_started` to `request_finished` in the request's own context
# (outside a request, e.g. a task, every call reads); a version this process moves drops out of it,
# so a request still reads its own writes. Reading the versions once, at the first use, keeps the
# rule that matters: they are read before anything is computed under them.
_request_versions: ContextVar[dict[str, int] | None] = ContextVar("shared_versions", default=None)
# Every namespace this process has read: a request's first read fetches them all.
_seen_namespaces: set[str] = set()


def _start_request_versions(**kwargs: Any) -> None:
    _request_versions.set({})


def _end_request_versions(**kwargs: Any) -> None:
    _request_versions.set(None)


request_started.connect(_start_request_versions, dispatch_uid="common.caching.request_versions_start")
request_finished.connect(_end_request_versions, dispatch_uid="common.caching.request_versions_end")


def shared_versions(namespaces: Iterable[str]) -> tuple[int, ...]:
    """The current version of each namespace (one round trip, none when this request has read them
    all already), started at the clock if unset."""
    names = list(namespaces)
    memo = _request_versions.get()
    if memo is not None and all(name in memo for name in names):
        return tuple(memo[name] for name in names)
    _seen_namespaces.update(names)
    wanted = names if memo is None else sorted(set(names) | (_seen_namespaces - memo.keys()))
    keys = [_version_key(n) for n in wanted]
    found = cache.get_many(keys)
    versions: dict[str, int] = {}
    for name, key in zip(wanted, keys, strict=True):
        if key not in found:
            cache.add(key, time.time_ns(), timeout=None)
            found[key] = cache.get(key, 0)
        versions[name] = int(found[key])
    if memo is not None:
        memo.update(versions)
    return tuple(versions[name] for name in names)


def _bump(namespace: str) -> None:
    memo = _request_versions.get()
    if memo is not None:
        memo.pop(namespace, None)
    key = _version_key(namespace)
    try:
        cache.incr(key)
    except ValueError:  # unset (or evicted): a new start that no old entry carries
        cache.set(key, time.time_ns(), timeout=None)


def shared_changed(namespace: str) -> None:
    """What `namespace` holds changed: its version moves now, for the changing transaction's own
    reads, and again when it commits, dropping anything another reader kept from the rows before the
    commit (a rollback only costs a miss). Once per namespace and transaction, however many rows."""
    _bump(namespace)
    if not connection.in_atomic_block:
        return
    if any(getattr(entry[1], "shared_namespace", None) == namespace for entry in connection.run_on_commit):
        return
    callback = partial(_bump, namespace)
    callback.shared_namespace = namespace  # type: ignore[attr-defined]
    transaction.on_commit(callback)


class SharedEntry(Generic[T]):
    """One entry of the shared cache, named by `key` under the namespaces' versions as they were
    when it was made (read before anything is computed for it), for a caller that computes its value
    in parts between reading and keeping it. `shared_cached` is the usual way."""

    def __init__(self, namespaces: str | tuple[str, ...], key: tuple, *, timeout: int = SHARED_TIMEOUT):
        names = (namespaces,) if isinstance(namespaces, str) else namespaces
        versions = shared_versions(names)
        digest = hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()
        self.name = f"shared:{':'.join(names)}:{'.'.join(map(str, versions))}:{digest}"
        self.timeout = timeout

    def get(self, default: object = None) -> T | object:
        """The value kept, or `default` when there is none."""
        return cache.get(self.name, default)

    def keep(self, value: T) -> None:
        cache.set(self.name, value, self.timeout)


def shared_cached(
    namespaces: str | tuple[str, ...],
    key: tuple,
    compute: Callable[[], T],
    *,
    timeout: int = SHARED_TIMEOUT,
) -> T:
    """`compute()`, kept for every user under `key` and the namespaces' current versions. The versions
    are read before computing, so rows read after a change committed are never kept under the old
    version. `compute` must not depend on who asks."""
    entry: SharedEntry[T] = SharedEntry(namespaces, key, timeout=timeout)
    value = entry.get(_MISSING)
    if value is _MISSING:
        value = compute()
        entry.keep(value)
    return value
