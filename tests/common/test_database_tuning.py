"""infra/postgres/tuning.conf, which production's database server includes, names only settings this
PostgreSQL knows, with values it accepts: a typo there would stop the server at its next start."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

TUNING = Path(__file__).resolve().parents[2] / "infra" / "postgres" / "tuning.conf"

pytestmark = pytest.mark.django_db


def tuning_settings() -> dict[str, str]:
    settings = {}
    for line in TUNING.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = (part.strip() for part in line.split("=", 1))
            settings[name] = value.strip("'")
    return settings


def test_the_tuning_file_sets_the_memory_checkpoints_and_wal_compression():
    assert set(tuning_settings()) == {
        "shared_buffers",
        "max_wal_size",
        "checkpoint_timeout",
        "wal_compression",
    }


def test_every_setting_is_one_postgresql_knows_with_a_value_it_accepts():
    if connection.vendor != "postgresql":
        pytest.skip("the file is PostgreSQL's")
    with connection.cursor() as cursor:
        for name, value in tuning_settings().items():
            cursor.execute("SELECT vartype, enumvals, unit FROM pg_settings WHERE name = %s", [name])
            row = cursor.fetchone()
            assert row is not None, f"{name} is not a PostgreSQL setting"
            kind, choices, unit = row
            if kind == "enum":
                assert value in choices, f"{name} = {value}: not one of {choices}"
            elif unit.endswith("B"):  # memory: the server reads "2GB" as pg_size_bytes does
                cursor.execute("SELECT pg_size_bytes(%s) > 0", [value])
                assert cursor.fetchone()[0], f"{name} = {value}"
            else:  # time ("15min"), read as an interval
                assert unit in ("ms", "s", "min"), f"{name}: unit {unit}"
                cursor.execute("SELECT %s::interval > interval '0'", [value])
                assert cursor.fetchone()[0], f"{name} = {value}"
