"""Writing many rows of one model fast: tuples in, ids out, no model instances and no signals.

`insert_rows(model, fields, rows)` appends rows given as tuples of the named columns (attnames:
`order_id`, not `order`) and answers their new ids in the rows' order. The columns not named take
the field's default, worked out once for the whole batch (`auto_now`/`auto_now_add` columns the time
of the call, `default=dict` an empty object): so it is not for defaults that differ from row to row
(a fresh UUID), which must be named.

On PostgreSQL the ids are taken from the table's sequence in one statement and the rows written
with one `COPY ... FROM STDIN` (psycopg's `cursor.copy`): two round trips, however many rows, and no
per-value adaptation in Django's compiler. Elsewhere (SQLite, the embedded default) it falls back to
`bulk_create` of instances, which answers the ids too. Either way the rows are in the caller's
transaction and nothing else (no `save()`, no signals) runs: callers use it for rows whose model
has no behaviour on save, which is why it takes a model and not a queryset.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

# (database alias, table) -> the sequence of its primary key, looked up once per process.
_sequences: dict[tuple[str, str], str] = {}


def _defaults(model: type[models.Model], named: Sequence[str]) -> tuple[list[str], list[Any]]:
    """The columns not named, except the primary key, and each one's value for the whole batch."""
    now = timezone.now()
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in named:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_db_default() and not field.has_default():
            continue  # the database fills it in (an omitted column of COPY; DatabaseDefault elsewhere)
        else:
            value = field.get_default()  # its default, else None ("" for text that may be blank)
        columns.append(field.attname)
        values.append(value)
    return columns, values


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str | None = None,
) -> list[int]:
    """Insert `rows` (tuples of `fields`' values) into `model`'s table; answers the new ids in order."""
    rows = list(rows)
    if not rows:
        return []
    using = using or router.db_for_write(model)
    connection = connections[using]
    known = {f.attname: f for f in model._meta.concrete_fields}
    if unknown := [name for name in fields if name not in known]:
        raise ValueError(f"{model.__name__} has no column {', '.join(unknown)}.")
    extra_columns, extra_values = _defaults(model, fields)
    if connection.vendor != "postgresql":
        # SQLite and the rest: instances, written by bulk_create (which answers the ids there too).
        names = [*fields, *extra_columns]
        made = model._default_manager.db_manager(using).bulk_create(
            [model(**dict(zip(names, (*row, *extra_values), strict=True))) for row in rows]
        )
        return [instance.pk for instance in made]
    columns = [*fields, *extra_columns]
    json_at = [
        (position, known[name].encoder)
        for position, name in enumerate(columns)
        if isinstance(known[name], models.JSONField)
    ]
    extra = tuple(extra_values)
    if json_at:
        fixed = [(p, c) for p, c in json_at if p >= len(fields)]
        per_row = [(p, c) for p, c in json_at if p < len(fields)]
        extra_list = list(extra)
        for position, encoder in fixed:
            extra_list[position - len(fields)] = json.dumps(extra_list[position - len(fields)], cls=encoder)
        extra = tuple(extra_list)
    else:
        per_row = []
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk
    quoted = ", ".join(connection.ops.quote_name(known[name].column) for name in [pk.attname, *columns])
    with connection.cursor() as cursor:
        sequence = _sequences.get((connection.alias, model._meta.db_table))
        if sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, pk.column])
            sequence = _sequences[(connection.alias, model._meta.db_table)] = cursor.fetchone()[0]
        # The name is looked up once: pg_get_serial_sequence in the select list would run per row.
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
        ids = [found for (found,) in cursor.fetchall()]
        raw = cursor.cursor  # psycopg's own cursor, under Django's wrapper
        began = time.perf_counter()
        with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            write = copy.write_row
            if per_row:
                for new_id, row in zip(ids, rows, strict=True):
                    values = list(row)
                    for position, encoder in per_row:
                        values[position] = json.dumps(values[position], cls=encoder)
                    write((new_id, *values, *extra))
            else:
                for new_id, row in zip(ids, rows, strict=True):
                    write((new_id, *row, *extra))
        if connection.queries_logged:  # counted like any statement (query-count tests, the benches)
            connection.queries_log.append(
                {
                    "sql": f"COPY {table} ({quoted}) FROM STDIN -- {len(rows)} rows",
                    "time": f"{time.perf_counter() - began:.3f}",
                }
            )
    return ids


def set_column(
    model: type[models.Model], attname: str, values: Mapping[int, Any], *, using: str | None = None
) -> int:
    """Set one column of many rows, each to its own value (`{pk: value}`), in one statement; answers
    how many rows changed. PostgreSQL: an UPDATE joined to the pairs unnested from two arrays;
    elsewhere `bulk_update`. No `save()`, no signals, `auto_now` columns untouched."""
    if not values:
        return 0
    using = using or router.db_for_write(model)
    connection = connections[using]
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    pk = model._meta.pk
    if connection.vendor != "postgresql":
        rows = [model(**{pk.attname: key, attname: value}) for key, value in values.items()]
        return model._default_manager.db_manager(using).bulk_update(rows, [field.name])
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the models only; every value is a parameter.
            f"UPDATE {quote(model._meta.db_table)} AS t SET {quote(field.column)} = v.value "  # noqa: S608
            f"FROM unnest(%s::{pk.rel_db_type(connection)}[], %s::{field.db_type(connection)}[]) "
            f"AS v(key, value) WHERE t.{quote(pk.column)} = v.key",
            [list(values), list(values.values())],
        )
        return cursor.rowcount
