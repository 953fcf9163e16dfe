"""The life of an uploaded file: stored, checked whole, applied in one transaction, or rejected.

An app supplies an `Importer` (its columns, how to check every row, how to apply the checked
rows); this module runs it the same way for every kind of file, so that uploads behave alike:
every problem is listed by row and column, nothing is written unless all rows are right, and
progress is visible while a long import runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from common.errors import FileRejected, RowError, RowErrors
from common.models import ImportJob
from common.tabular import Column, Table
from common.uploads import XLSX_MAGIC, file_size, validate_upload

logger = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 1000
# Progress lives in the cache because the import's own transaction hides its writes until commit.
PROGRESS_KEY = "import-job:{id}:processed"
PROGRESS_EVERY = 500
XLSX_XML_PER_CSV_BYTE = 8

Progress = Callable[[int], None]


class Importer(Protocol):
    """What an app provides to import one kind of file."""

    kind: str
    columns: tuple[Column, ...]

    def check(self, *, table: Table, job: ImportJob, progress: Progress) -> tuple[RowErrors, Any]:
        """Read and check every row; return the problems (collected in a `RowErrors`, which keeps
        the first thousand and counts the rest) and the checked rows (applied if there are none)."""

    def apply(self, *, checked: Any, job: ImportJob, progress: Progress) -> dict:
        """Write the checked rows (inside the caller's transaction); return a summary for the user."""


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: IO[bytes]


def _sha256(fileobj: IO[bytes]) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def import_job_create(
    *, kind: str, upload: UploadedFile, organisation_id: int | None, created_by: Any
) -> ImportJob:
    """Check the file against the upload limits (DomainError naming `file` if it fails them), then
    store it and a queued job for it."""
    validate_upload(upload.content, name=upload.name)
    job = ImportJob(
        kind=kind,
        organisation_id=organisation_id,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        original_name=upload.name[:255],
        sha256=_sha256(upload.content),
    )
    job.file.save(upload.name, File(upload.content), save=False)
    job.save()
    return job


def runs_inline(content: IO[bytes]) -> bool:
    """Whether a file is small enough to import while the user waits (UPLOAD_INLINE_MAX_BYTES).

    A workbook is judged by what the reader has to parse, its XML, which is about eight times
    the CSV of the same rows; so a 400 KB limit keeps about 2,000 rows inline in either format.
    """
    limit = settings.UPLOAD_INLINE_MAX_BYTES
    size = file_size(content)
    content.seek(0)
    head = content.read(4)
    content.seek(0)
    if head != XLSX_MAGIC:
        return size <= limit
    try:
        with zipfile.ZipFile(content) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return True  # refused at once as damaged: no work to move off the request
    finally:
        content.seek(0)
    return expanded <= XLSX_XML_PER_CSV_BYTE * limit


def import_job_start(
    *,
    kind: str,
    upload: UploadedFile,
    organisation_id: int | None,
    created_by: Any,
    run: Callable[[int], Any],
    task: Any,
    inline: bool | None = None,
) -> ImportJob:
    """Store the file as a job and run it: now, for a small file (or `inline=True`), otherwise as
    the Celery `task` once the job is committed (the page and the API follow its progress).

    Either way the job carries the outcome: a failure while running inline is recorded on the job
    (status failed, nothing applied), never raised into the request.
    """
    job = import_job_create(kind=kind, upload=upload, organisation_id=organisation_id, created_by=created_by)
    if inline if inline is not None else runs_inline(upload.content):
        with contextlib.suppress(Exception):
            run(job.pk)
        job.refresh_from_db()
    else:
        # robust: with eager Celery (the embedded setup) a failing task must not turn the upload's
        # answer into a 500; the job records the failure.
        transaction.on_commit(lambda: task.delay(job.pk), robust=True)
    return job


def import_job_progress(job: ImportJob) -> int:
    """Rows processed so far, as the running import reports them."""
    if job.is_finished:
        return job.processed_rows
    cached = cache.get(PROGRESS_KEY.format(id=job.pk))
    return int(cached) if cached is not None else job.processed_rows


def _progress_reporter(job: ImportJob) -> Progress:
    key = PROGRESS_KEY.format(id=job.pk)

    def report(processed: int) -> None:
        if processed % PROGRESS_EVERY == 0:
            cache.set(key, processed, timeout=60 * 60)

    return report


def _set_status(job: ImportJob, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _count_rows(importer: Importer, job: ImportJob) -> int:
    with job.file.open("rb") as fileobj:
        table = Table(fileobj, name=job.original_name, columns=importer.columns)
        return sum(1 for _ in table.rows())


def import_job_run(*, job_id: int, importer: Importer) -> ImportJob:
    """Check the job's file whole and apply it in one transaction, or record every problem.

    Safe to call again for a finished job (a retried task): it returns the job unchanged.
    """
    job = ImportJob.objects.get(pk=job_id)
    if job.is_finished:
        return job
    progress = _progress_reporter(job)
    _set_status(job, status=ImportJob.Status.VALIDATING, started_at=timezone.now())
    try:
        total = _count_rows(importer, job)
        _set_status(job, total_rows=total)
        with job.file.open("rb") as fileobj:
            table = Table(fileobj, name=job.original_name, columns=importer.columns)
            errors, checked = importer.check(table=table, job=job, progress=progress)
        if errors:
            raise FileRejected(list(errors), more=getattr(errors, "more", 0))
        _set_status(job, status=ImportJob.Status.APPLYING)
        with transaction.atomic():
            summary = importer.apply(checked=checked, job=job, progress=progress)
    except FileRejected as rejected:
        _set_status(
            job,
            status=ImportJob.Status.REJECTED,
            errors=errors_as_json(rejected.errors, more=rejected.more),
            summary={"problems": rejected.total},
            finished_at=timezone.now(),
        )
        return job
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        _set_status(
            job,
            status=ImportJob.Status.FAILED,
            errors=[
                {"row": 0, "column": "", "message": "The import failed unexpectedly; nothing was applied."}
            ],
            finished_at=timezone.now(),
        )
        raise
    _set_status(
        job,
        status=ImportJob.Status.SUCCEEDED,
        processed_rows=job.total_rows,
        summary=summary,
        finished_at=timezone.now(),
    )
    cache.delete(PROGRESS_KEY.format(id=job.pk))
    return job


def errors_as_json(errors: Iterable[RowError], *, more: int = 0) -> list[dict]:
    """The first MAX_LISTED_ERRORS problems by row and column, then one line counting the rest."""
    ordered = sorted(errors, key=lambda e: (e.row, e.column))
    more += max(0, len(ordered) - MAX_LISTED_ERRORS)
    listed = [{"row": e.row, "column": e.column, "message": e.message} for e in ordered[:MAX_LISTED_ERRORS]]
    if more:
        listed.append(
            {
                "row": 0,
                "column": "",
                "message": f"... and {more:,} more problem{'s' if more != 1 else ''}: fix these and upload "
                "the file again to see the rest.",
            }
        )
    return listed


def import_job_status(job: ImportJob) -> dict:
    """What the progress page and the API show: rows checked so far, and the outcome once known."""
    processed = import_job_progress(job)
    total = job.total_rows
    if job.is_finished:
        percent = 100
    elif job.status == ImportJob.Status.APPLYING:
        percent = 99  # every row is checked; the single transaction is being written
        processed = total
    else:
        percent = min(98, int(100 * processed / total)) if total else 0
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": job.get_status_display(),
        "finished": job.is_finished,
        "file_name": job.original_name,
        "processed": processed,
        "total": total,
        "percent": percent,
        "errors": job.errors if job.is_finished else [],
        "summary": job.summary if job.is_finished else {},
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
