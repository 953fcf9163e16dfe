"""Long lists of values reach the database through a temporary table, not as thousands of literals
in the SQL; short ones stay in the SQL. Either way a lookup finds the same rows."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product
from common.staging import Staging
from tests.catalogue.factories import ProductFactory

pytestmark = pytest.mark.django_db


def temporary_tables() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relname FROM pg_class WHERE relpersistence = 't' AND relkind = 'r'")
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def products():
    return [ProductFactory(npc=f"NPC{n}") for n in range(12)]


def test_a_short_list_stays_in_the_sql_and_runs_no_extra_statement(products):
    wanted = {"NPC1", "NPC2", "NOPE"}

    with CaptureQueriesContext(connection) as captured, Staging(inline_max=5) as staging:
        values = staging.values(wanted, kind="text")
        found = set(Product.objects.filter(npc__in=values).values_list("npc", flat=True))

    assert sorted(values) == sorted(wanted)
    assert found == {"NPC1", "NPC2"}
    assert len(captured) == 1


def test_a_long_list_is_staged_and_finds_the_same_rows(products):
    wanted = {f"NPC{n}" for n in range(0, 12, 2)} | {f"MISSING{n}" for n in range(40)}

    with CaptureQueriesContext(connection) as captured, Staging(inline_max=5) as staging:
        found = set(
            Product.objects.filter(npc__in=staging.values(wanted, kind="text")).values_list("npc", flat=True)
        )
        ids = set(
            Product.objects.filter(
                id__in=staging.values([p.pk for p in products[:8]], kind="integer")
            ).values_list("id", flat=True)
        )
        assert staging.tables  # both lists went to tables

    assert found == {f"NPC{n}" for n in range(0, 12, 2)}
    assert ids == {p.pk for p in products[:8]}
    # No statement carries the values, and the tables went with the block.
    assert not any("MISSING" in q["sql"] for q in captured.captured_queries)
    assert temporary_tables() == set()


def test_a_failure_inside_the_block_takes_the_tables_away_and_leaves_the_callers_transaction_usable(
    products,
):
    with transaction.atomic():
        with pytest.raises(ValueError), Staging(inline_max=0) as staging:
            staging.values(["NPC1"], kind="text")
            raise ValueError("the caller failed halfway")

        assert temporary_tables() == set()
        assert Product.objects.count() == 12  # the transaction goes on
