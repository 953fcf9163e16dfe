"""One upload lifecycle for every kind of file: a kind says its columns, how a row is checked into
a typed input and how the checked rows apply; `common.imports` does the rest (start inline or
queued, limits, problems by row, all or nothing, audit, scoping, progress). A job whose worker
dies is taken up again or failed by the sweeper, never left in progress."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from common import imports
from common.errors import NotFound, RowError
from common.imports import FILE_IMPORTED
from common.models import AuditEvent, ImportJob
from common.tabular import Column
from organisations.models import Role
from organisations.permissions import trusts_for
from pricing.models import PurchaseHistoryLine
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import csv_bytes, row

pytestmark = pytest.mark.django_db

APPLIED: list[list] = []


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@dataclass(frozen=True)
class Allocation:
    """The typed input of the test kind: a commissioner's allocation, say."""

    code: str
    amount: int


class AllocationImporter:
    def check_row(self, number, row):
        if not row["amount"].isdigit():
            return None, [RowError(number, "amount", "must be a whole number")]
        return Allocation(code=row["code"], amount=int(row["amount"])), []

    def check_rows(self, rows, errors):
        return [value for _, value in rows]

    def apply(self, *, checked, job, progress):
        APPLIED.append(checked)
        return {"allocations": len(checked), "total": sum(a.amount for a in checked)}


@pytest.fixture
def allocations():
    """A new upload kind in a page of code, registered as an app's ready() would."""
    APPLIED.clear()
    imports.register_import_kind(
        imports.ImportKind(
            name="allocations",
            columns=(Column("code", True), Column("amount", True)),
            importer=lambda job: AllocationImporter(),
            organisations_for=trusts_for,
        )
    )
    yield "allocations"
    imports._kinds.pop("allocations")


def start(kind: str, content: bytes, user, *, organisation_id=None, inline=None) -> ImportJob:
    return imports.import_job_start(
        kind=kind,
        upload=imports.UploadedFile(name="file.csv", content=io.BytesIO(content)),
        organisation_id=organisation_id,
        created_by=user,
        inline=inline,
    )


def test_a_new_kind_declares_only_its_rows_and_gets_the_whole_lifecycle(allocations):
    trust = TrustFactory()
    buyer = member(Role.BUYER, trust)

    good = start(allocations, b"code,amount\nA,3\nB,4\n", buyer, organisation_id=trust.pk)
    bad = start(allocations, b"code,amount\nA,x\nB,4\nC,y\n", buyer, organisation_id=trust.pk)
    empty = start(allocations, b"code,amount\n", buyer, organisation_id=trust.pk)

    assert good.status == ImportJob.Status.SUCCEEDED
    assert good.summary == {"allocations": 2, "total": 7}
    assert [[Allocation("A", 3), Allocation("B", 4)]] == APPLIED  # typed inputs, applied once
    assert bad.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["column"]) for e in bad.errors] == [(2, "amount"), (4, "amount")]
    assert empty.errors == [{"row": 2, "column": "", "message": imports.NO_ROWS}]
    event = AuditEvent.objects.get(kind=FILE_IMPORTED)
    assert (event.organisation_id, event.data["kind"], event.data["total"]) == (trust.pk, allocations, 7)
    assert imports.import_job_for_user(kind=allocations, user=buyer, job_id=good.pk) == good
    with pytest.raises(NotFound):
        imports.import_job_for_user(kind=allocations, user=member(Role.BUYER), job_id=good.pk)
    with pytest.raises(NotFound):  # a job of another kind is not found as this kind
        imports.import_job_for_user(kind="catalogue", user=buyer, job_id=good.pk)


def test_an_unregistered_kind_stores_nothing():
    with pytest.raises(LookupError, match="No upload kind 'nothing'"):
        start("nothing", b"a\n1\n", None)
    assert not ImportJob.objects.exists()


def test_the_upload_limits_hold_for_every_kind(allocations, settings):
    settings.UPLOAD_MAX_ROWS = 2
    job = start(allocations, b"code,amount\nA,1\nB,2\nC,3\n", None)

    assert job.status == ImportJob.Status.REJECTED
    assert "more than 2 rows" in job.errors[0]["message"]
    assert not APPLIED


def test_the_purchase_history_import_is_audited_with_its_file_like_every_upload():
    buyer = member(Role.BUYER, TrustFactory(ods_code="T0001"))
    job = start(
        "purchase_history", csv_bytes([row()]), buyer, organisation_id=buyer.memberships.get().organisation_id
    )

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    event = AuditEvent.objects.get(kind=FILE_IMPORTED)
    assert (event.data["kind"], event.data["file"], event.data["sha256"]) == (
        "purchase_history",
        "file.csv",
        job.sha256,
    )


def test_every_upload_task_acknowledges_late_and_is_given_back_if_its_worker_dies():
    from common.tasks import import_job_run_task, import_jobs_sweep

    for task in (import_job_run_task, import_jobs_sweep):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True


# --- Jobs whose worker died ----------------------------------------------------------------------


def stuck(job: ImportJob, *, status=ImportJob.Status.VALIDATING, minutes=30, attempts=1) -> ImportJob:
    """Leave the job as a killed worker (or web request) leaves it: in progress, no longer moving."""
    then = timezone.now() - dt.timedelta(minutes=minutes)
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, started_at=then, heartbeat_at=then, attempts=attempts, processed_rows=7
    )
    cache.delete(imports.HEARTBEAT_KEY.format(id=job.pk))
    job.refresh_from_db()
    return job


@pytest.fixture
def queued_history(settings, django_capture_on_commit_callbacks):
    """A purchase-history file stored as a job that never ran (its worker was killed)."""
    trust = TrustFactory(ods_code="T0001")
    buyer = member(Role.BUYER, trust)
    with django_capture_on_commit_callbacks(execute=False):
        job = start(
            "purchase_history",
            csv_bytes([row(line_number=n) for n in (1, 2, 3)]),
            buyer,
            organisation_id=trust.pk,
            inline=False,
        )
    return job


def test_a_job_left_checking_by_a_killed_request_is_queued_again_and_finishes(
    queued_history, django_capture_on_commit_callbacks
):
    job = stuck(queued_history)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = imports.import_jobs_sweep()

    assert outcome == {"requeued": [job.pk], "failed": []}
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.attempts, job.processed_rows) == (2, 3)  # started clean, not from row 7
    assert PurchaseHistoryLine.objects.count() == 3


def test_a_job_that_keeps_dying_is_marked_failed_and_says_why(queued_history, settings):
    settings.IMPORT_MAX_ATTEMPTS = 2
    job = stuck(queued_history, status=ImportJob.Status.APPLYING, attempts=2)

    assert imports.import_jobs_sweep() == {"requeued": [], "failed": [job.pk]}

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.is_finished
    assert "stopped 2 times" in job.errors[0]["message"]
    assert not PurchaseHistoryLine.objects.exists()


def test_a_job_still_moving_is_left_alone(queued_history):
    job = stuck(queued_history, minutes=30)
    # Inside its transaction a running import beats in the cache only.
    cache.set(imports.HEARTBEAT_KEY.format(id=job.pk), timezone.now().timestamp())
    assert imports.import_jobs_sweep() == {"requeued": [], "failed": []}
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATING
    assert imports.import_job_run(job_id=job.pk).status == ImportJob.Status.VALIDATING  # a duplicate run


def test_a_redelivered_task_for_a_dead_run_starts_clean_and_a_finished_job_is_not_run_again(queued_history):
    from common.tasks import import_job_run_task

    job = stuck(queued_history)

    assert import_job_run_task(job.pk) == ImportJob.Status.SUCCEEDED
    assert import_job_run_task(job.pk) == ImportJob.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.attempts == 2
    assert PurchaseHistoryLine.objects.count() == 3


def test_the_sweep_command_takes_its_threshold_and_beat_runs_the_task(queued_history, settings, capsys):
    job = stuck(queued_history, minutes=3)

    call_command("import_jobs_sweep")  # IMPORT_STALE_MINUTES is 15: three minutes still is not stuck
    assert "Queued again: 0" in capsys.readouterr().out
    call_command("import_jobs_sweep", minutes=2)
    assert f"Queued again: 1 [{job.pk}]" in capsys.readouterr().out
    assert settings.CELERY_BEAT_SCHEDULE["common-sweep-import-jobs"]["task"] == "common.import_jobs_sweep"
