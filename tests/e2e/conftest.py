"""Browser journeys: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Every page a journey visits is screenshotted to e2e/artifacts/ and checked by axe-core (WCAG 2.2 A
and AA, zero violations); at 390 px wide it must also be no wider than the screen. These tests are
marked `e2e` and left out of `make test`; `make e2e` runs them (README, "Testing").
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import FAST_HASHERS

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "e2e" / "artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# WCAG 2.2 A and AA: axe tags each rule with the version of the success criterion it checks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool


DESKTOP = Viewport("desktop", 1280, 800, mobile=False)
MOBILE = Viewport("mobile", 390, 844, mobile=True)
VIEWPORTS = [DESKTOP, MOBILE]


@pytest.fixture(scope="package")
def _orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in the test's thread; Django's ORM, called from the
    test (factories, the demo seed), refuses to run beside one unless DJANGO_ALLOW_ASYNC_UNSAFE is
    set. Set for these tests only: `check --deploy` (tests/marketplace) rightly fails with it."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_orm_beside_playwright) -> Iterator[Browser]:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT.relative_to(ROOT)} is missing: run `npm ci --prefix e2e` (make e2e does).")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=VIEWPORTS, ids=lambda viewport: viewport.name)
def viewport(request) -> Viewport:
    return request.param


def seed_demo() -> None:
    call_command("seed_demo", even_without_debug=True, stdout=io.StringIO())


class KeptRows:
    """Every table's rows and every sequence's position, kept in a schema of their own beside the
    tables (PostgreSQL), and put back in one transaction: what a journey starts from, the same each
    time, without running the seed again (about 7 s a journey)."""

    SCHEMA = "e2e_kept_rows"

    def __init__(self, connection) -> None:
        self.connection = connection
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'django_migrations' "
                "ORDER BY c.relname"
            )
            self.tables = [name for (name,) in cursor.fetchall()]
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            self.sequences: list[tuple[str, int | None]] = cursor.fetchall()
            self.columns: dict[str, str] = {}
            cursor.execute(f"DROP SCHEMA IF EXISTS {self.SCHEMA} CASCADE; CREATE SCHEMA {self.SCHEMA}")
            for table in self.tables:
                # Generated columns are computed again as the rows go back.
                cursor.execute(
                    "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
                    [f"public.{table}"],
                )
                (self.columns[table],) = cursor.fetchone()
                cursor.execute(
                    f"CREATE TABLE {self.SCHEMA}.{table} AS SELECT {self.columns[table]} FROM public.{table}"
                )
            cursor.execute(
                " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {self.SCHEMA}.{t}" for t in self.tables)
            )
            self.filled = [table for table, rows in cursor.fetchall() if rows]

    def put_back(self) -> None:
        from django.contrib.contenttypes.models import ContentType

        from common.management.commands.flush import audit_triggers_lifted

        # Foreign keys are checked at commit (Django makes them DEFERRABLE INITIALLY DEFERRED), so
        # the order of the tables does not matter within the transaction.
        with transaction.atomic(), audit_triggers_lifted(self.connection), self.connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE")
            for table in self.filled:
                columns = self.columns[table]
                cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {self.SCHEMA}.{table}")
            for sequence, last_value in self.sequences:
                if last_value is not None:
                    cursor.execute("SELECT setval(%s, %s, true)", [sequence, last_value])
        ContentType.objects.clear_cache()  # the ids may differ from those the flush recreated


@pytest.fixture(scope="package")
def _demo_rows(django_db_setup, django_db_blocker, _orm_beside_playwright) -> KeptRows | None:
    """On PostgreSQL the demo is seeded once for the journeys and its rows kept (`KeptRows`); the
    database is then emptied again for the tests that start from nothing."""
    from django.db import connection
    from django.test import override_settings

    if connection.vendor != "postgresql":
        return None
    # The journeys' users sign in under the tests' password hasher (tests/conftest.py).
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        seed_demo()
        kept = KeptRows(connection)
        call_command("flush", interactive=False, verbosity=0)
    return kept


@pytest.fixture
def demo(transactional_db, settings, tmp_path, _demo_rows) -> None:
    """The demo seed (`manage.py seed_demo`): real organisations, catalogue and purchase history."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if _demo_rows is None:
        seed_demo()
    else:
        _demo_rows.put_back()


@pytest.fixture
def busiest_trust(demo):
    """The demo trust with the most to save in the latest period: its pages are full."""
    from pricing import selectors
    from pricing.models import TrustSavings

    savings = TrustSavings.objects.filter(period=selectors.default_period()).order_by("-savings_target")
    return savings.select_related("trust").first().trust


@dataclass
class Journey:
    """One person's walk through the site in one browser window: every step is checked and kept."""

    page: Page
    base_url: str
    viewport: Viewport
    folder: Path
    problems: list[str] = field(default_factory=list)
    steps: int = 0

    def goto(self, path: str, step: str) -> None:
        self.page.goto(self.base_url + path)
        self.check(step)

    def check(self, step: str) -> None:
        """Screenshot the page as it is now, run axe over it and, on a phone, measure its width."""
        self.page.wait_for_load_state("load")
        self.steps += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        self.page.screenshot(path=self.folder / f"{self.steps:02d}-{slug}.png", full_page=True)
        where = f"[{self.viewport.name}] step {self.steps} '{step}' ({self.page.url})"
        for violation in axe_violations(self.page):
            self.problems.append(f"{where}: {violation}")
        if self.viewport.mobile:
            width = self.page.evaluate("document.documentElement.scrollWidth")
            if width > self.viewport.width:
                wide = self.page.evaluate(WIDEST_ELEMENTS, self.viewport.width)
                self.problems.append(
                    f"{where}: the page is {width}px wide on a {self.viewport.width}px screen; "
                    f"overflowing: {', '.join(wide) or 'unknown'}"
                )

    def sign_in(self, email: str, password: str) -> None:
        self.goto("/accounts/sign-in/", "sign-in page")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(lambda url: "/accounts/sign-in/" not in url)
        self.check("signed in")

    def assert_no_problems(self) -> None:
        assert not self.problems, "\n".join(
            [f"{len(self.problems)} accessibility or layout problem(s):", *self.problems]
        )


# The innermost elements sticking out past the right edge of the screen, to say what to fix. Text
# that does not wrap (white-space: nowrap) sticks out of a box that itself fits: scrollWidth shows it.
WIDEST_ELEMENTS = """(width) => {
  const right = (e) => Math.max(e.getBoundingClientRect().right,
                                e.getBoundingClientRect().left + e.scrollWidth);
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className.trim()
       ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (right(el) > width + 1 && ![...el.children].some(c => right(c) > width + 1)) {
      out.push(name(el) + ' (right edge ' + Math.round(right(el)) + 'px)');
      if (out.length >= 5) break;
    }
  }
  return out;
}"""
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 A/AA violations on the page, one readable line per element at fault."""
    # The context injects axe into every document as it starts (an init script, which the site's
    # Content-Security-Policy does not block, as it blocks any inline script tag); a page written
    # in place by the test itself (set_content) gets it by a script tag.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    violations = page.evaluate(AXE_RUN, AXE_TAGS)
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"{violation['id']} at `{node['target']}`: {violation['help']}. {summary}")
    return lines


@pytest.fixture
def journey(browser, live_server, viewport, request) -> Iterator[Journey]:
    context = browser.new_context(
        viewport={"width": viewport.width, "height": viewport.height},
        is_mobile=viewport.mobile,
        has_touch=viewport.mobile,
        accept_downloads=True,
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    context.add_init_script(path=str(AXE_SCRIPT))
    folder = ARTIFACTS / request.node.originalname / viewport.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    page = context.new_page()
    try:
        yield Journey(page=page, base_url=live_server.url, viewport=viewport, folder=folder)
    finally:
        context.close()
