"""Read statements run beside the request, on a second database connection.

A page that needs several independent reads, each mostly the database's work (a category page's
facet counts over tens of thousands of index entries), waits for the sum of their times when it
sends them one after another on its one connection: PostgreSQL runs one statement of a connection at
a time, on one core. `read_beside` sends one of them from this process's side thread instead, on
that thread's own connection, and returns at once; the request's thread sends the next meanwhile,
and PostgreSQL serves both on two cores. The page waits for the longest, not the sum. The side
thread only waits on the database (the statement is compiled by the caller, the rows converted by
the caller), so it barely competes with the request's Python for the interpreter.

Only where that reads what running it inline would:
- PostgreSQL: the embedded SQLite default serves one user on a laptop;
- outside a transaction: another connection cannot see a transaction's uncommitted rows (and the
  test suite runs most tests in one, where every statement stays inline);
- `DATABASE_CONCURRENT_READS` on (the default).
Otherwise the statement runs at once on the caller's connection. Either way a statement sees what had
been committed when it started (READ COMMITTED), as every statement of a request does.

The side connection is opened on first use and kept like the request threads' ones: checked before
and after each statement (`close_old_connections`: closed past `DATABASE_CONN_MAX_AGE` or after an
error, opened again on the next); it compiles nothing just in time (`SET jit = off`). Each process
has its own threads (a forked worker starts its own).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection

T = TypeVar("T")
U = TypeVar("U")
P = TypeVar("P")
Rows = list[tuple]

# As many side threads as a request has reads beside at once (a category page: its supplier and
# patient-eligible counts, or its stock pass then its supplier counts, one chain). Under load, when the
# database's cores are busy anyway, a worker's request threads (gunicorn's gthread workers run 2)
# queue for them.
SIDE_THREADS = 2
THREAD_PREFIX = "concurrent-reads"

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None


class Pending(Generic[T]):
    """A read started beside the caller (or already done inline): `result()` waits for it, then
    converts its rows in the caller's thread. A database error is raised by `result()`."""

    def __init__(self, rows: Future[Rows], convert: Callable[[Rows], T]) -> None:
        self._rows = rows
        self._convert = convert

    def result(self) -> T:
        return self._convert(self._rows.result())


def enabled() -> bool:
    """Whether a read started now would run beside (see the module's conditions)."""
    return (
        settings.DATABASE_CONCURRENT_READS
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not threading.current_thread().name.startswith(THREAD_PREFIX)
    )


def _side_executor() -> ThreadPoolExecutor:
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            # A worker forked from a master that had started threads has none of them running.
            _executor = ThreadPoolExecutor(max_workers=SIDE_THREADS, thread_name_prefix=THREAD_PREFIX)
            _executor_pid = os.getpid()
        return _executor


def _fetch(sql: str, params: Sequence[object]) -> Rows:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_side = threading.local()


def _prepare_side_connection() -> None:
    """Once per side connection: no JIT compilation. The reads beside a request are short (a few
    tens of milliseconds at most), but a correlated subquery's estimated cost can pass
    `jit_above_cost`, and compiling (8 ms and more here) then costs more than the read."""
    connection.ensure_connection()
    if getattr(_side, "prepared", None) is not connection.connection:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        _side.prepared = connection.connection


def _fetch_on_side_connection(sql: str, params: Sequence[object]) -> Rows:
    close_old_connections()  # this thread's connection: reopened past its age or after an error
    try:
        _prepare_side_connection()
        return _fetch(sql, params)
    finally:
        close_old_connections()


def read_beside(sql: str, params: Sequence[object], convert: Callable[[Rows], T]) -> Pending[T]:
    """Start `sql` (a read, compiled by the caller; values as parameters) beside the caller when
    `enabled()`, else run it now on the caller's connection. `convert` turns its rows into the result."""
    if enabled():
        return Pending(_side_executor().submit(_fetch_on_side_connection, sql, list(params)), convert)
    done: Future[Rows] = Future()
    try:
        done.set_result(_fetch(sql, params))
    except Exception as exc:  # raised by result(), where a read beside would raise it
        done.set_exception(exc)
    return Pending(done, convert)


# A statement compiled by the caller: SQL with its values as parameters.
Statement = tuple[str, Sequence[object]]


def read_beside_then(
    first: Statement,
    convert_first: Callable[[Rows], T],
    prepare: Callable[[], P],
    then: Callable[[T, P], Statement],
    convert_then: Callable[[Rows], U],
) -> tuple[Pending[T], Pending[U]]:
    """Start `first` beside the caller and, once its rows are in, the statement `then` chooses from
    them and from what `prepare` made, both on the same side connection; or run both now on the
    caller's connection when not `enabled()`. `prepare` runs in the caller's thread while `first`
    runs (compiling the statements `then` chooses among: the side thread only chooses, converts and
    waits on the database), and an error in it is raised to the caller. A page whose second read
    depends on the first waits for neither until it needs them. An error in the first (or in
    choosing the second) is raised by both results."""
    first_done: Future[Rows] = Future()
    then_done: Future[Rows] = Future()
    prepared: Future[P] = Future()

    def run(fetch: Callable[[str, Sequence[object]], Rows]) -> None:
        try:
            rows = fetch(*first)
            chosen = then(convert_first(rows), prepared.result())
        except Exception as exc:
            first_done.set_exception(exc)
            then_done.set_exception(exc)
            return
        first_done.set_result(rows)
        try:
            then_done.set_result(fetch(*chosen))
        except Exception as exc:
            then_done.set_exception(exc)

    beside = enabled()
    if beside:
        _side_executor().submit(run, _fetch_on_side_connection)
    try:
        prepared.set_result(prepare())
    except Exception as exc:
        prepared.set_exception(exc)  # the side thread stops at it
        raise
    if not beside:
        run(_fetch)
    return Pending(first_done, convert_first), Pending(then_done, convert_then)


def close_side_connections() -> None:
    """Close this process's side threads' connections (tests, before the test database goes). A no-op
    when none was started."""
    with _lock:
        executor = _executor if _executor_pid == os.getpid() else None
    if executor is None:
        return
    from django.db import connections

    # One task per thread, each waiting for the others so that every thread takes one.
    barrier = threading.Barrier(SIDE_THREADS)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        connections.close_all()

    for future in [executor.submit(close) for _ in range(SIDE_THREADS)]:
        future.result()
