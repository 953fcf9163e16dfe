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
import shutil
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


# A PostgreSQL server of the benchmarks' own, with production's settings (infra/postgres/tuning.conf):
# the machine's server keeps PostgreSQL's defaults, which are not ours to change.
TUNING = ROOT / "infra" / "postgres" / "tuning.conf"
TUNED_PORT = int(os.environ.get("BENCH_TUNED_SERVER_PORT") or 5499)
# In the checkout (ignored by git), not a shared temporary directory another user could make first.
TUNED_DIRECTORY = ROOT / "var" / "bench_tuned_server"


def _tuned_directory() -> Path:
    return Path(os.environ.get("BENCH_TUNED_SERVER_DIR") or TUNED_DIRECTORY)


def tuned_server(directory: Path | None = None, *, port: int = TUNED_PORT) -> str:
    """Start (making it first if absent) a PostgreSQL server that includes infra/postgres/tuning.conf,
    listening on 127.0.0.1:`port` (`BENCH_TUNED_SERVER_PORT`, else 5499) only; return its base URL.
    Its data directory (`BENCH_TUNED_SERVER_DIR`, else var/bench_tuned_server in the checkout) is
    kept, so the data a bench built stays for the next run; `tuned_server_stop` stops it. Needs
    PostgreSQL's server binaries (`pg_config --bindir`); as root they run as the `postgres` user
    (PostgreSQL refuses root)."""
    import psycopg

    directory = directory or _tuned_directory()
    data = directory / "data"
    if not (data / "PG_VERSION").exists():
        directory.mkdir(parents=True, exist_ok=True)
        _as_server_user(directory)
        _server_command("initdb", "--pgdata", str(data), "--auth", "trust", "--username", "postgres")
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# bench/databases.py: production's settings, on 127.0.0.1 only, its own socket directory\n"
                f"include '{TUNING}'\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{directory}'\n"
            )
    url = f"postgres://postgres@127.0.0.1:{port}"
    try:
        psycopg.connect(f"{url}/postgres", connect_timeout=2).close()
    except psycopg.OperationalError:
        print(f"Starting the bench's own PostgreSQL server ({data}, port {port})...", flush=True)
        log = str(directory / "server.log")
        _server_command("pg_ctl", "--pgdata", str(data), "--log", log, "--wait", "start")
    return url


def tuned_server_stop(directory: Path | None = None) -> None:
    directory = directory or _tuned_directory()
    _server_command("pg_ctl", "--pgdata", str(directory / "data"), "--mode", "fast", "--wait", "stop")


def _server_command(program: str, *args: str) -> None:
    found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
    bindir = found.stdout.strip()
    command = [str(Path(bindir) / program), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _as_server_user(directory: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        # The server user must reach its directory through the checkout's.
        for parent in directory.parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise SystemExit(
                    f"{parent} is not searchable by the postgres user: set BENCH_TUNED_SERVER_DIR"
                )
