"""A supplier signs in (after one mistyped password), uploads a catalogue file, watches its
progress and reads the problems row by row; then uploads a good file and sees it applied.

Uploads above `INLINE_MAX_BYTES` are imported by a Celery worker while the status page follows
them. Here every upload takes that road (the limit is set to 0) and the test plays the worker:
it holds the queued job until the browser has shown the waiting page, then runs it, and the
page's own polling brings up the outcome.
"""

from __future__ import annotations

import csv
import io

import pytest

from catalogue import importing, tasks
from organisations.demo import DEMO_PASSWORD
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "docs" / "samples" / "catalogue.csv"
SUPPLIER = "supplier.admin@pennine.demo.example"


def bad_catalogue() -> bytes:
    """The documented sample with three mistakes a supplier makes."""
    rows = list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    rows[0]["pack_price"] = "twelve pounds"  # spreadsheet row 2
    rows[1]["vat_rate"] = "17"  # row 3
    rows[2]["category"] = "Clinical consumables > Gloves > Velvet"  # row 4
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def queued_jobs(monkeypatch) -> list[int]:
    """Every upload goes to the queue; the test runs the queued jobs when it chooses."""
    queued: list[int] = []
    monkeypatch.setattr(importing, "INLINE_MAX_BYTES", 0)
    monkeypatch.setattr(tasks.import_catalogue_file, "delay", queued.append)
    return queued


def upload(journey, name: str, content: bytes, queued: list[int]) -> None:
    page = journey.page
    page.get_by_label("Catalogue file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/supplier/imports/*/")
    assert len(queued) == 1, queued
    # Queued, not started: the page says so and shows an empty progress bar while it polls.
    assert page.get_by_text("Waiting to start").is_visible()
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "0"
    journey.check(f"progress of {name}")
    importing.catalogue_import_run(job_id=queued.pop())


def test_a_supplier_uploads_a_catalogue_and_sees_progress_then_errors_then_success(
    demo, journey, queued_jobs
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

    upload(journey, "catalogue-with-mistakes.csv", bad_catalogue(), queued_jobs)
    # The page polls the job's status and shows the outcome when it is finished.
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
    upload(journey, "catalogue.csv", SAMPLE.read_bytes(), queued_jobs)
    page.get_by_role("heading", name="Imported").wait_for()
    journey.check("file applied")
    assert page.get_by_text("All 6 rows were applied.").is_visible()

    journey.assert_no_problems()
