"""A supplier signs in (after one mistyped password), uploads a catalogue file, watches its
progress and reads the problems row by row; then uploads a good file and sees it applied.

Uploads above `UPLOAD_INLINE_MAX_BYTES` are imported by a Celery worker while the status page follows
them. Here every upload takes that road (the limit is set to 0) and the test plays the worker:
it holds the queued job until the browser has shown the waiting page, then runs it, pausing it
half way until the page's own polling has shown the rows checked so far, and the same polling
brings up the outcome.
"""

from __future__ import annotations

import csv
import io

import pytest

from common import imports
from common import tasks as common_tasks
from organisations.demo import DEMO_PASSWORD
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "docs" / "samples" / "catalogue.csv"
SUPPLIER = "supplier.admin@pennine.demo.example"


ROWS = 1000  # enough for the import to report its progress on the way (every 500 rows)


def bad_catalogue() -> bytes:
    """A thousand offers built from the documented sample, with three mistakes a supplier makes."""
    sample = list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    rows = []
    for number in range(ROWS):
        row = dict(sample[number % len(sample)])
        row.update(supplier_sku=f"BULK-{number:04d}", gtin="", npc="", manufacturer_part_number="")
        rows.append(row)
    rows[0]["pack_price"] = "twelve pounds"  # spreadsheet row 2
    rows[1]["vat_rate"] = "17"  # row 3
    rows[2]["category"] = "Clinical consumables > Gloves > Velvet"  # row 4
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def queued_jobs(monkeypatch, settings) -> list[int]:
    """Every upload goes to the queue; the test runs the queued jobs when it chooses."""
    queued: list[int] = []
    settings.UPLOAD_INLINE_MAX_BYTES = 0
    monkeypatch.setattr(common_tasks.import_job_run_task, "delay", queued.append)
    return queued


def upload(journey, name: str, content: bytes, queued: list[int]) -> int:
    """Upload a file and see it queued: the page says so and shows an empty progress bar."""
    page = journey.page
    page.get_by_label("Catalogue file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/supplier/imports/*/")
    assert len(queued) == 1, queued
    assert page.get_by_text("Waiting to start").is_visible()
    assert page.get_by_role("progressbar").evaluate("bar => String(bar.value)") == "0"
    journey.check(f"{name} queued")
    return queued.pop()


def run_job(job_id: int, monkeypatch, on_progress=None) -> None:
    """Play the worker: run the job here, calling `on_progress(rows)` whenever it reports."""
    if on_progress is None:
        imports.import_job_run(job_id=job_id)
        return
    check = imports.import_rows_check

    def check_and_watch(*, importer, table, progress):
        def report(processed: int) -> None:
            progress(processed)
            on_progress(processed)

        return check(importer=importer, table=table, progress=report)

    with monkeypatch.context() as patched:
        patched.setattr(imports, "import_rows_check", check_and_watch)
        imports.import_job_run(job_id=job_id)


def test_a_supplier_uploads_a_catalogue_and_sees_progress_then_errors_then_success(
    demo, journey, queued_jobs, monkeypatch
):
    page = journey.page
    journey.goto("/accounts/sign-in/", "sign-in page")
    page.get_by_label("Email address").fill(SUPPLIER)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    journey.check("sign-in refused")
    assert page.get_by_role("alert").get_by_text("Enter a correct email address and password").is_visible()

    journey.sign_in(SUPPLIER, DEMO_PASSWORD)
    page.get_by_role("link", name="Upload a catalogue file").click()
    journey.check("upload page")

    page.get_by_role("button", name="Upload and check").click()
    journey.check("upload without a file")
    assert page.get_by_role("alert").is_visible()
    assert not queued_jobs

    job_id = upload(journey, "catalogue-with-mistakes.csv", bad_catalogue(), queued_jobs)

    def halfway(rows: int) -> None:
        if rows == ROWS // 2:
            # The job is paused here, half checked: the page's polling shows how far it has got.
            page.get_by_text(f"Checked {rows} of {ROWS:,} rows").wait_for()
            assert page.get_by_role("progressbar").evaluate("bar => String(bar.value)") == "50"
            journey.check("file half checked")

    run_job(job_id, monkeypatch, on_progress=halfway)
    assert journey.steps == 8, "the page never showed the rows checked so far"
    # When the job is finished, the page's polling shows the outcome.
    errors = page.locator("#import-errors")
    errors.wait_for()
    journey.check("rows with problems")
    assert page.get_by_role("heading", name="Nothing was applied: the file has 3 problems").is_visible()
    listed = [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in errors.locator("tbody tr").all()
    ]
    assert [(row, column) for row, column, _ in listed] == [
        ("2", "pack_price"),
        ("3", "vat_rate"),
        ("4", "category"),
    ], listed

    page.get_by_role("link", name="Upload another file").click()
    journey.check("upload page with the rejected file listed")
    run_job(upload(journey, "catalogue.csv", SAMPLE.read_bytes(), queued_jobs), monkeypatch)
    page.get_by_role("heading", name="Imported").wait_for()
    journey.check("file applied")
    assert page.get_by_text("All 6 rows were applied.").is_visible()

    journey.assert_no_problems()
