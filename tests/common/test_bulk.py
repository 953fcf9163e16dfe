"""Rows written in bulk (`common.bulk`): COPY on PostgreSQL, bulk_create elsewhere; either way the
ids come back in the rows' order, the columns not named take their defaults, JSON is stored as JSON,
and the statements are counted like any other."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common import audit
from common.bulk import insert_rows, set_column
from common.models import AuditEvent
from purchasing.models import CostCentre
from tests.organisations.factories import UserFactory
from tests.purchasing.factories import CostCentreFactory

KIND = audit.ACCESS_DENIED  # any declared kind


@pytest.mark.django_db
def test_rows_come_back_as_ids_in_order_with_their_defaults_and_json():
    person = UserFactory(email="writer@example.nhs.uk")
    entries = [
        {"actor": person if n % 2 else None, "organisation_id": n, "subject": f"row {n}", "data": {"n": n}}
        for n in range(5)
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = audit.record_many(entries=entries, kind=KIND)

    assert len(ids) == 5 and ids == sorted(ids)
    rows = {e.pk: e for e in AuditEvent.objects.filter(pk__in=ids)}
    for n, pk in enumerate(ids):
        row = rows[pk]
        assert (row.subject, row.organisation_id, row.data) == (f"row {n}", n, {"n": n})
        assert row.actor_identifier == ("writer@example.nhs.uk" if n % 2 else "")
        assert row.occurred_at is not None and row.ip_address is None
    assert len(queries) <= 3  # the ids, and one COPY (counted), on PostgreSQL; one INSERT elsewhere


@pytest.mark.django_db
def test_an_unknown_column_is_refused_and_nothing_is_written():
    with pytest.raises(ValueError, match="no column colour"):
        insert_rows(AuditEvent, ("kind", "colour"), [(KIND, "red")])
    assert insert_rows(AuditEvent, ("kind",), []) == []
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_one_column_of_many_rows_is_set_each_to_its_own_value():
    centres = [CostCentreFactory(name=f"Ward {n}") for n in range(3)]
    changed = set_column(CostCentre, "name", {c.pk: f"Theatre {n}" for n, c in enumerate(centres)})
    assert changed == 3
    assert [CostCentre.objects.get(pk=c.pk).name for c in centres] == ["Theatre 0", "Theatre 1", "Theatre 2"]
