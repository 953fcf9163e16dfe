"""Large sets of values for a query, held in a temporary table instead of written into its SQL.

A lookup such as `gtin__in=[...]` with thousands of values makes a statement that Django, the
driver and the database each spend long building, parsing and planning (re-uploading a
100,000-row catalogue spent about 40% of its time so). Inside `with Staging() as staging:`,
`staging.values(...)` hands back the values themselves when there are few, and otherwise copies
them into a temporary table (COPY on PostgreSQL, one executemany elsewhere) and hands back the
subquery `(SELECT value FROM that table)`, which the database answers with a join:

    with Staging() as staging:
        rows = Product.objects.filter(gtin__in=staging.values(gtins, kind="text"))
        ...  # read the rows inside the block: the tables are dropped when it ends

`staging.rows(columns, rows)` stages whole rows (several typed columns) and hands back the table's
quoted name, for a statement that joins it (the catalogue re-upload's "which rows are unchanged",
`catalogue.planner.plan`).

The first table opens a transaction (a savepoint inside the caller's), so the tables go away with
it even when something fails; a block that stages nothing runs no extra statement.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Literal

from django.db import connections, transaction
from django.db.models.expressions import RawSQL

# Up to this many values go into the SQL as they are; more are staged.
INLINE_MAX = 500

Kind = Literal["text", "integer"]
_COLUMN_TYPES = {
    "postgresql": {"text": "text", "integer": "bigint"},
    "default": {"text": "text", "integer": "integer"},
}
_names = itertools.count(1)


class Staging:
    """Stages sets of values in temporary tables that live as long as the `with` block."""

    def __init__(self, *, using: str = "default", inline_max: int | None = None) -> None:
        self.using = using
        self.inline_max = INLINE_MAX if inline_max is None else inline_max
        self.tables: list[str] = []
        self._transaction = ExitStack()

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        # On failure the transaction (or savepoint) is rolled back, and the tables with it.
        if kind is None and self.tables:
            connection = connections[self.using]
            with connection.cursor() as cursor:
                for table in self.tables:  # one at a time: SQLite drops one table per statement
                    cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
        self.tables.clear()
        return self._transaction.__exit__(kind, error, traceback)

    def values(self, values: Iterable, *, kind: Kind) -> list | RawSQL:
        """The values for an `__in` lookup: a list when short, else a subquery of a staged table."""
        listed = list(values)
        if len(listed) <= self.inline_max:
            return listed
        quoted = self.rows([("value", kind)], ((value,) for value in listed))
        return RawSQL(f"SELECT value FROM {quoted}", ())  # noqa: S608, S611 - our own table name

    def rows(self, columns: Sequence[tuple[str, Kind]], rows: Iterable[Sequence]) -> str:
        """Stage rows of values for `columns` ((name, kind) pairs, names ours, never input) in a
        temporary table, whatever their number, and return its quoted name for a statement that
        joins it. NULLs are kept (None)."""
        table = self._table(columns)
        connection = connections[self.using]
        quoted = connection.ops.quote_name(table)
        names = ", ".join(connection.ops.quote_name(name) for name, _ in columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {quoted} ({names}) VALUES ({marks})", list(rows))  # noqa: S608
            if connection.vendor == "postgresql":
                # A fresh temporary table has no statistics; the join is planned on its real size.
                cursor.execute(f"ANALYZE {quoted}")
        return quoted

    def _table(self, columns: Sequence[tuple[str, Kind]]) -> str:
        connection = connections[self.using]
        if not self.tables:
            self._transaction.enter_context(transaction.atomic(using=self.using))
        types = _COLUMN_TYPES.get(connection.vendor, _COLUMN_TYPES["default"])
        table = f"staged_{next(_names)}"
        definition = ", ".join(f"{connection.ops.quote_name(name)} {types[k]}" for name, k in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {connection.ops.quote_name(table)} ({definition})")
        self.tables.append(table)
        return table
