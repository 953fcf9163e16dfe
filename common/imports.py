"""The life of an uploaded file, the same for every kind: stored, counted, every row checked,
applied in one transaction or rejected with every problem, progress shown, audited.

An app declares an upload kind (`ImportKind`: its name, its columns, whose jobs a user sees,
and how to build the `Importer` for a stored job) and registers it from its AppConfig.ready()
with `register_import_kind`. The importer says only how one row is checked into a typed input,
what the rows are checked for together (repeats, a plan), and how the checked rows are applied.
Everything else is here:

- start: `import_job_start` stores the file (`common.uploads.validate_upload`: type, size) and
  runs it while the user waits if it is small (UPLOAD_INLINE_MAX_BYTES), otherwise queues the
  `common.import_job_run` Celery task once the job is committed;
- run: `import_job_run` reads the file with `common.tabular.Table` (row and column limits),
  keeps the first 1,000 problems and counts the rest, applies in one transaction, records the
  audit event and calls the kind's `after_success`;
- scoping: `import_job_for_user` / `import_jobs_for_user` through the kind's `organisations_for`;
- progress: rows processed (in the cache: the import's transaction hides its writes) and a
  heartbeat (the cache, and the job's `heartbeat_at` outside the transaction);
- the sweeper: `import_jobs_sweep` finds unfinished jobs whose heartbeat stopped (a worker killed,
  out of memory, redeployed; a web request cut off) and queues them again, or marks them failed
  after IMPORT_MAX_ATTEMPTS runs. A run starts clean: a job cut short applied nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from common import audit
from common.errors import FileRejected, NotFound, RowError, RowErrors
from common.models import ImportJob
from common.tabular import Column, Table, row_problems
from common.uploads import XLSX_MAGIC, file_size, validate_upload

FILE_IMPORTED = audit.register_kind("common.file_imported", "File imported", formerly="file_imported")

logger = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 1000
# Progress lives in the cache because the import's own transaction hides its writes until commit.
PROGRESS_KEY = "import-job:{id}:processed"
HEARTBEAT_KEY = "import-job:{id}:heartbeat"
PROGRESS_EVERY = 500
XLSX_XML_PER_CSV_BYTE = 8
NO_ROWS = "the file has a header but no rows"
FAILED = "The import failed unexpectedly; nothing was applied."
GAVE_UP = (
    "The import stopped {attempts} times before it finished (the server running it was restarted); "
    "nothing was applied. Upload the file again, or split it into smaller files."
)

Progress = Callable[[int], None]


class Importer(Protocol):
    """What an upload kind does with one stored job's rows (the rest of the life is here)."""

    def check_row(self, number: int, row: dict[str, str]) -> tuple[Any, list[RowError]]:
        """One row (number as the user sees it, {column: text}) as a typed input, or its problems."""

    def check_rows(self, rows: Iterator[tuple[int, Any]], errors: RowErrors) -> Any:
        """What the rows are checked for together (repeated keys, a plan): consume the (number,
        input) pairs of the good rows, add problems to `errors`, return what `apply` takes."""

    def apply(self, *, checked: Any, job: ImportJob, progress: Progress) -> dict:
        """Write the checked rows (inside the lifecycle's one transaction); return a summary."""


@dataclass(frozen=True)
class ImportKind:
    """One kind of upload, as its app declares it."""

    name: str
    columns: tuple[Column, ...]
    # The importer for a stored job (built when the job runs, from the job's organisation or user).
    importer: Callable[[ImportJob], Importer]
    # The organisations whose jobs of this kind a user may see (a queryset of organisations).
    organisations_for: Callable[[Any], QuerySet]
    # Called in the job's transaction once it has applied (e.g. schedule a refresh on commit).
    after_success: Callable[[ImportJob], None] | None = None


_kinds: dict[str, ImportKind] = {}


def register_import_kind(kind: ImportKind) -> None:
    """Add an upload kind. Call from AppConfig.ready(); registering the same name again replaces it."""
    _kinds[kind.name] = kind


def import_kind(name: str) -> ImportKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"No upload kind {name!r} is registered (see common.imports).") from None


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
        heartbeat_at=timezone.now(),
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


def _queue(job_id: int) -> None:
    from common.tasks import import_job_run_task  # tasks import this module

    import_job_run_task.delay(job_id)


def import_job_start(
    *,
    kind: str,
    upload: UploadedFile,
    organisation_id: int | None,
    created_by: Any,
    inline: bool | None = None,
) -> ImportJob:
    """Store the file as a job of a registered kind and run it: now, for a small file (or
    `inline=True`), otherwise on a Celery worker once the job is committed (the page and the API
    follow its progress).

    Either way the job carries the outcome: a failure while running inline is recorded on the job
    (status failed, nothing applied), never raised into the request.
    """
    import_kind(kind)  # an unknown kind fails before anything is stored
    job = import_job_create(kind=kind, upload=upload, organisation_id=organisation_id, created_by=created_by)
    if inline if inline is not None else runs_inline(upload.content):
        with contextlib.suppress(Exception):
            import_job_run(job_id=job.pk)
        job.refresh_from_db()
    else:
        # robust: with eager Celery (the embedded setup) a failing task must not turn the upload's
        # answer into a 500; the job records the failure.
        transaction.on_commit(lambda: _queue(job.pk), robust=True)
    return job


def import_job_progress(job: ImportJob) -> int:
    """Rows processed so far, as the running import reports them."""
    if job.is_finished:
        return job.processed_rows
    cached = cache.get(PROGRESS_KEY.format(id=job.pk))
    return int(cached) if cached is not None else job.processed_rows


def _beat(job: ImportJob, *, in_transaction: bool) -> None:
    """The job is moving: the cache always; the row too unless the import's transaction is open
    (its write would wait for the commit, and hold the row locked)."""
    now = timezone.now()
    cache.set(HEARTBEAT_KEY.format(id=job.pk), now.timestamp(), timeout=24 * 60 * 60)
    if not in_transaction:
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=now)


def _progress_reporter(job: ImportJob, phase: dict) -> Progress:
    key = PROGRESS_KEY.format(id=job.pk)

    def report(processed: int) -> None:
        if processed % PROGRESS_EVERY == 0:
            cache.set(key, processed, timeout=60 * 60)
            _beat(job, in_transaction=phase["applying"])

    return report


def _set_status(job: ImportJob, **fields: Any) -> None:
    fields.setdefault("heartbeat_at", timezone.now())
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _count_rows(kind: ImportKind, job: ImportJob) -> int:
    count = 0
    with job.file.open("rb") as fileobj:
        table = Table(fileobj, name=job.original_name, columns=kind.columns)
        for count, _ in enumerate(table.rows(), start=1):
            if count % (10 * PROGRESS_EVERY) == 0:
                _beat(job, in_transaction=False)
    return count


def import_rows_check(*, importer: Importer, table: Table, progress: Progress) -> tuple[RowErrors, Any]:
    """Check every row of `table` one by one and then together; return the problems (the first
    MAX_LISTED_ERRORS kept, the rest counted, so memory does not grow with a file of junk) and
    what the importer's `apply` takes."""
    errors = RowErrors(MAX_LISTED_ERRORS)
    read = 0

    def good_rows() -> Iterator[tuple[int, Any]]:
        nonlocal read
        for read, (number, row) in enumerate(table.rows(), start=1):
            progress(read)
            value, problems = importer.check_row(number, row)
            problems = [*row_problems(number, row), *problems]
            errors.extend(problems)
            if not problems and value is not None:
                yield number, value

    # Checked together even when some rows are wrong, so the answer also lists the problems only
    # the whole file shows: the user fixes everything in one go.
    checked = importer.check_rows(good_rows(), errors)
    if not read:
        errors.append(RowError(2, "", NO_ROWS))
    return errors, checked


def import_job_run(*, job_id: int) -> ImportJob:
    """Check the job's file whole and apply it in one transaction, or record every problem.

    Idempotent: a finished job is returned unchanged (a redelivered task); an unfinished one (a
    worker killed midway) starts again from the first row, since nothing of it was applied.
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job
    if job.status != ImportJob.Status.QUEUED and not _stale(job):
        logger.info("Import job %s is running elsewhere (%s); left to it", job.pk, job.status)
        return job
    kind = import_kind(job.kind)
    phase = {"applying": False}
    progress = _progress_reporter(job, phase)
    cache.delete(PROGRESS_KEY.format(id=job.pk))
    now = timezone.now()
    # Claimed only if no other run (a redelivered task, a sweep) changed the job since it was read.
    claimed = ImportJob.objects.filter(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update(
        status=ImportJob.Status.VALIDATING,
        started_at=now,
        heartbeat_at=now,
        processed_rows=0,
        errors=[],
        summary={},
        attempts=job.attempts + 1,
    )
    if not claimed:
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    try:
        importer = kind.importer(job)
        total = _count_rows(kind, job)
        _set_status(job, total_rows=total)
        with job.file.open("rb") as fileobj:
            table = Table(fileobj, name=job.original_name, columns=kind.columns)
            errors, checked = import_rows_check(importer=importer, table=table, progress=progress)
        if errors:
            raise FileRejected(list(errors.kept), more=errors.more)
        _set_status(job, status=ImportJob.Status.APPLYING)
        phase["applying"] = True
        with transaction.atomic():
            summary = importer.apply(checked=checked, job=job, progress=progress)
            audit.record(
                kind=FILE_IMPORTED,
                actor=job.created_by,
                organisation_id=job.organisation_id,
                subject=f"import:{job.pk}",
                data={"kind": job.kind, "file": job.original_name, "sha256": job.sha256, **summary},
            )
            _set_status(
                job,
                status=ImportJob.Status.SUCCEEDED,
                processed_rows=job.total_rows,
                summary=summary,
                finished_at=timezone.now(),
            )
            if kind.after_success is not None:
                kind.after_success(job)
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
            errors=[{"row": 0, "column": "", "message": FAILED}],
            finished_at=timezone.now(),
        )
        raise
    finally:
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


def import_job_problems(job: ImportJob) -> list[str]:
    """The job's problems as lines of text ("row 3, gtin: ..."), for the management commands."""
    return [str(RowError(e["row"], e["column"], e["message"])) for e in job.errors]


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


# --- Whose jobs a user sees ---------------------------------------------------------------------


def _visible_jobs(*, kind: str, user: Any) -> QuerySet:
    """Jobs of an organisation the user acts for now; a job for no single organisation (a file
    for several) is its uploader's while they still act for one. Someone who has left sees none."""
    organisations = import_kind(kind).organisations_for(user)
    if not organisations.exists():
        return ImportJob.objects.none()
    return ImportJob.objects.filter(kind=kind).filter(
        Q(organisation_id__in=organisations.values("id"))
        | Q(organisation_id__isnull=True, created_by_id=user.pk)
    )


def import_job_for_user(*, kind: str, user: Any, job_id: int) -> ImportJob:
    """A job of this kind the user may see; NotFound for anyone else's."""
    job = _visible_jobs(kind=kind, user=user).filter(pk=job_id).select_related("created_by").first()
    if job is None:
        raise NotFound("No such import.")
    return job


def import_jobs_for_user(
    *, kind: str, user: Any, organisation_id: int | None = None, limit: int = 10
) -> list[ImportJob]:
    """The user's latest visible jobs of a kind; only the acting organisation's when it is given."""
    jobs = _visible_jobs(kind=kind, user=user)
    if organisation_id is not None:
        jobs = jobs.filter(organisation_id=organisation_id)
    return list(jobs.order_by("-created_at", "-id")[:limit])


# --- Jobs that stopped moving -------------------------------------------------------------------


def _last_moved(job: ImportJob) -> dt.datetime:
    moments = [job.heartbeat_at or job.started_at or job.created_at]
    cached = cache.get(HEARTBEAT_KEY.format(id=job.pk))
    if cached is not None:
        moments.append(dt.datetime.fromtimestamp(float(cached), tz=dt.UTC))
    return max(moment for moment in moments if moment is not None)


def _stale(job: ImportJob, *, stale_after: dt.timedelta | None = None) -> bool:
    if stale_after is None:
        stale_after = dt.timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    return _last_moved(job) < timezone.now() - stale_after


def import_jobs_sweep(*, stale_after: dt.timedelta | None = None) -> dict:
    """Find unfinished jobs whose heartbeat stopped `stale_after` ago (IMPORT_STALE_MINUTES): queue
    each again, or mark it failed once it has been started IMPORT_MAX_ATTEMPTS times. A queued job
    whose task was lost (a broker restarted) is queued again the same way."""
    if stale_after is None:
        stale_after = dt.timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    cutoff = timezone.now() - stale_after
    requeued: list[int] = []
    failed: list[int] = []
    candidates = ImportJob.objects.exclude(status__in=ImportJob.FINISHED).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    for job in candidates:
        if not _stale(job, stale_after=stale_after):
            continue  # moving: its transaction hides the row's heartbeat, the cache shows it
        if job.attempts >= settings.IMPORT_MAX_ATTEMPTS:
            changed = (
                ImportJob.objects.filter(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at)
                .exclude(status__in=ImportJob.FINISHED)
                .update(
                    status=ImportJob.Status.FAILED,
                    errors=[{"row": 0, "column": "", "message": GAVE_UP.format(attempts=job.attempts)}],
                    finished_at=timezone.now(),
                    heartbeat_at=timezone.now(),
                )
            )
            if changed:
                failed.append(job.pk)
                logger.warning("Import job %s stopped %s times; marked failed", job.pk, job.attempts)
            continue
        changed = ImportJob.objects.filter(
            pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at
        ).update(status=ImportJob.Status.QUEUED, heartbeat_at=timezone.now())
        if changed:
            requeued.append(job.pk)
            logger.warning("Import job %s stopped moving (%s); queued again", job.pk, job.status)
            transaction.on_commit(lambda pk=job.pk: _queue(pk), robust=True)
    return {"requeued": requeued, "failed": failed}
