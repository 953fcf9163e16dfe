"""A list of strings stored as text[] on PostgreSQL (GIN-indexable) and as JSON elsewhere."""

from __future__ import annotations

import json

from django.db import models


class StringListField(models.Field):
    description = "A list of short strings"

    def db_type(self, connection) -> str:
        return "text[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        value = list(value or [])
        return value if connection.vendor == "postgresql" else json.dumps(value)

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, list):
            return value or []
        return json.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return list(value or [])
