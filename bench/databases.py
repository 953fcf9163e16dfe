"""The benchmarks' own PostgreSQL databases, created as copies of one migrated template.

Running every migration into an empty database costs about 20 s of CPU; a bench that builds its data
from scratch (and `make bench-smoke`, which runs them all) would spend most of its time there. So a
new bench database is `CREATE DATABASE ... TEMPLATE` of `mp_bench_template` (`BENCH_TEMPLATE_DATABASE`
to change it), on the same server, which is migrated only when the project's migrations change: the
template's comment holds a fingerprint of the migration files and requirements/base.txt.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = "mp_bench_template"


def _split(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    return base, name


def _fingerprint() -> str:
    digest = hashlib.sha256()
    # The migrations, and the pinned packages whose apps bring migrations of their own.
    files = [*sorted(ROOT.glob("*/migrations/*.py")), ROOT / "requirements" / "base.txt"]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def template_name() -> str:
    return os.environ.get("BENCH_TEMPLATE_DATABASE") or DEFAULT_TEMPLATE


def migrated_template(url: str) -> str:
    """The template's name, on `url`'s server, migrated to the project's migrations."""
    base, _ = _split(url)
    template = template_name()
    _migrate_template(base, template)
    return template


def _migrate_template(base: str, template: str) -> None:
    import psycopg
    from psycopg import sql

    wanted = _fingerprint()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if row and row[0] == wanted:
            return
        # Made afresh, not migrated on top: a migration edited before it landed would otherwise
        # keep its old form in the template (migrate skips what it has applied).
        if row:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(template)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    print(f"Migrating the bench template database {template} (once per change of migrations)...", flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DATABASE_URL=f"{base}/{template}", DJANGO_SETTINGS_MODULE="marketplace.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(template), sql.Literal(wanted))
        )


def create_database(url: str, *, drop: bool) -> bool:
    """Make sure `url`'s database exists, migrated; with `drop`, a new one. True when it was (re)created."""
    import psycopg
    from psycopg import sql

    base, name = _split(url)
    template = template_name()
    wanted = _fingerprint()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    # A database kept for its data is reused only while the migrations are those it was made with:
    # a migration renamed or edited since (a merge renumbers them) would not apply on top of it.
    if exists and not drop and exists[0] == wanted:
        return False
    if exists and not drop:
        print(f"The migrations changed since {name} was made: making it again.", flush=True)
    _migrate_template(base, template)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
        comment = sql.SQL("COMMENT ON DATABASE {} IS {}")
        conn.execute(comment.format(sql.Identifier(name), sql.Literal(wanted)))
    print(f"Created database {name} (a copy of the migrated {template}).", flush=True)
    return True
