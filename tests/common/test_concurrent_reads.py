"""A page's independent reads sent beside the request, on a second connection
(`common.concurrent_reads`): only where that reads what the request's own connection would, with
errors raised where the page waits for the rows, and a connection of its own that recovers."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from common import concurrent_reads
from common.concurrent_reads import close_side_connections, read_beside, read_beside_then
from organisations.models import Organisation
from tests.organisations.factories import SupplierFactory

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads go beside the request on PostgreSQL only"
)


def names_of(rows: list[tuple]) -> list[str]:
    return sorted(name for (name,) in rows)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_committed_read_runs_on_a_side_thread_of_its_own(side_threads_used):
    SupplierFactory(name="Beside Medical")
    pending = read_beside(
        "SELECT name FROM organisations_organisation WHERE name = %s", ["Beside Medical"], names_of
    )
    assert pending.result() == ["Beside Medical"]
    assert len(side_threads_used) == 1
    assert side_threads_used[0].startswith(concurrent_reads.THREAD_PREFIX)
    assert side_threads_used[0] != threading.current_thread().name


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_read_stays_on_the_callers_connection_and_sees_its_rows(side_threads_used):
    with transaction.atomic():
        SupplierFactory(name="Uncommitted Medical")  # another connection could not see this row
        pending = read_beside(
            "SELECT name FROM organisations_organisation WHERE name = %s", ["Uncommitted Medical"], names_of
        )
        assert pending.result() == ["Uncommitted Medical"]
    assert side_threads_used == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_switched_off_every_read_stays_inline(settings, side_threads_used):
    settings.DATABASE_CONCURRENT_READS = False
    SupplierFactory(name="Inline Medical")
    assert read_beside("SELECT name FROM organisations_organisation", [], names_of).result() == [
        "Inline Medical"
    ]
    assert side_threads_used == []


@pytest.mark.django_db
def test_on_any_database_a_read_inline_gives_the_same_rows():
    SupplierFactory(name="Anywhere Medical")
    expected = sorted(Organisation.objects.values_list("name", flat=True))
    assert read_beside("SELECT name FROM organisations_organisation", [], names_of).result() == expected


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failing_read_raises_where_the_page_waits_and_the_side_connection_recovers(side_threads_used):
    pending = read_beside("SELECT no_such_column FROM organisations_organisation", [], names_of)
    with pytest.raises(DatabaseError, match="no_such_column"):
        pending.result()
    SupplierFactory(name="After Error Medical")
    again = read_beside(
        "SELECT name FROM organisations_organisation WHERE name = %s", ["After Error Medical"], names_of
    )
    assert again.result() == ["After Error Medical"]
    assert len(side_threads_used) == 2


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_side_connections_compile_no_read_just_in_time_even_when_opened_again(side_threads_used):
    """A short read's estimated cost can pass `jit_above_cost`: compiling it would cost more than
    reading. Every side connection has JIT off, a new one after the old was closed too, while the
    request's own connection keeps the server's setting."""

    def jit_beside() -> set[str]:
        return {read_beside("SHOW jit", [], lambda rows: rows[0][0]).result() for _ in range(6)}

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        (own,) = cursor.fetchone()
    assert jit_beside() == {"off"}
    close_side_connections()
    assert jit_beside() == {"off"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == (own,)
    assert len(side_threads_used) == 12


NAMES_OF_KIND = "SELECT name FROM organisations_organisation WHERE kind = %s"


def names_of_largest_kind(counts: dict[str, int], statement: str) -> tuple[str, list[object]]:
    """A second read chosen by the first's rows: the names of the most numerous kind of organisation
    (its statement prepared by the caller meanwhile)."""
    kind = max(counts, key=lambda name: (counts[name], name))
    return (statement, [kind])


def prepared_in(threads: list[str]):
    def prepare() -> str:
        threads.append(threading.current_thread().name)
        return NAMES_OF_KIND

    return prepare


def counts_by_kind(rows: list[tuple]) -> dict[str, int]:
    return dict(rows)


COUNT_BY_KIND = ("SELECT kind, COUNT(*) FROM organisations_organisation GROUP BY kind", [])


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_read_chosen_by_another_follows_it_on_the_same_side_connection(side_threads_used):
    preparing: list[str] = []
    SupplierFactory(name="First Medical")
    SupplierFactory(name="Second Medical")
    counts, names = read_beside_then(
        COUNT_BY_KIND, counts_by_kind, prepared_in(preparing), names_of_largest_kind, names_of
    )
    assert names.result() == ["First Medical", "Second Medical"]  # the suppliers outnumber the rest
    assert counts.result()["supplier"] == 2
    assert len(side_threads_used) == 2
    assert len(set(side_threads_used)) == 1
    assert side_threads_used[0].startswith(concurrent_reads.THREAD_PREFIX)
    assert preparing == [threading.current_thread().name]  # the caller prepares, not the side thread


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_both_chained_reads_stay_on_the_callers_connection(side_threads_used):
    preparing: list[str] = []
    with transaction.atomic():
        SupplierFactory(name="Uncommitted Medical")
        counts, names = read_beside_then(
            COUNT_BY_KIND, counts_by_kind, prepared_in(preparing), names_of_largest_kind, names_of
        )
        assert counts.result() == {"supplier": 1}
        assert names.result() == ["Uncommitted Medical"]
    assert side_threads_used == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failing_first_read_fails_both_and_a_failing_second_only_itself(side_threads_used):
    failing = ("SELECT no_such_column FROM organisations_organisation", [])
    counts, names = read_beside_then(
        failing, counts_by_kind, prepared_in([]), names_of_largest_kind, names_of
    )
    for pending in (counts, names):
        with pytest.raises(DatabaseError, match="no_such_column"):
            pending.result()
    SupplierFactory(name="After Error Medical")
    counts, names = read_beside_then(
        COUNT_BY_KIND, counts_by_kind, prepared_in([]), lambda counts, prepared: failing, names_of
    )
    assert counts.result() == {"supplier": 1}
    with pytest.raises(DatabaseError, match="no_such_column"):
        names.result()
    assert read_beside("SELECT name FROM organisations_organisation", [], names_of).result() == [
        "After Error Medical"
    ]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failing_preparation_is_raised_to_the_caller_and_frees_the_side_thread(side_threads_used):
    def prepare() -> str:
        raise ValueError("could not compile")

    with pytest.raises(ValueError, match="could not compile"):
        read_beside_then(COUNT_BY_KIND, counts_by_kind, prepare, names_of_largest_kind, names_of)
    SupplierFactory(name="Still Served Medical")
    # Both side threads still serve reads (the one that ran the first read stopped at the error).
    pending = [read_beside("SELECT name FROM organisations_organisation", [], names_of) for _ in range(4)]
    assert [read.result() for read in pending] == [["Still Served Medical"]] * 4


@pytest.mark.django_db
def test_on_any_database_chained_reads_inline_give_the_same_rows():
    preparing: list[str] = []
    SupplierFactory(name="Anywhere Medical")
    counts, names = read_beside_then(
        COUNT_BY_KIND, counts_by_kind, prepared_in(preparing), names_of_largest_kind, names_of
    )
    counted = counts.result()
    assert counted == {
        kind: Organisation.objects.filter(kind=kind).count()
        for kind in set(Organisation.objects.values_list("kind", flat=True))
    }
    largest = max(counted, key=lambda kind: (counted[kind], kind))
    assert names.result() == sorted(Organisation.objects.filter(kind=largest).values_list("name", flat=True))


@pytest.mark.django_db
def test_a_failing_read_inline_raises_where_the_page_waits_too():
    pending = read_beside("SELECT no_such_column FROM organisations_organisation", [], names_of)
    with pytest.raises(DatabaseError):
        pending.result()


def test_a_forked_worker_starts_side_threads_of_its_own(monkeypatch):
    first = concurrent_reads._side_executor()
    assert concurrent_reads._side_executor() is first
    monkeypatch.setattr(concurrent_reads.os, "getpid", lambda: -1)  # as in a child after fork()
    assert concurrent_reads._side_executor() is not first


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_closing_the_side_connections_leaves_none_open():
    # Both side threads read (each waits until the other has started, so neither takes both), and
    # each names the server process behind its connection.
    started = threading.Barrier(concurrent_reads.SIDE_THREADS)

    def backend_of_this_thread() -> int:
        started.wait(timeout=5)
        ((pid,),) = concurrent_reads._fetch_on_side_connection("SELECT pg_backend_pid()", [])
        return pid

    executor = concurrent_reads._side_executor()
    futures = [executor.submit(backend_of_this_thread) for _ in range(concurrent_reads.SIDE_THREADS)]
    side_backends = {future.result() for future in futures}
    assert len(side_backends) == concurrent_reads.SIDE_THREADS
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_backend,) = cursor.fetchone()
    assert own_backend not in side_backends
    assert side_backends <= backends_alive(side_backends)

    close_side_connections()

    # A server process leaves pg_stat_activity as it exits, a moment after its client closed the
    # connection: wait for that rather than read the view once.
    deadline = time.monotonic() + 10
    while backends_alive(side_backends) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends_alive(side_backends) == set()


def backends_alive(pids: set[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
        return {pid for (pid,) in cursor.fetchall()}
