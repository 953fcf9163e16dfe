"""Celery tasks of the shared kernel: the one task that runs every kind of upload, and its sweeper."""

from __future__ import annotations

from celery import shared_task

from common import imports


@shared_task(name="common.import_job_run", acks_late=True, reject_on_worker_lost=True)
def import_job_run_task(job_id: int) -> str:
    """Check and apply one stored upload of any registered kind.

    Acknowledged only once it has run, so a worker that dies midway leaves the message to be
    delivered again; running it again does nothing for a finished job and starts a job cut short
    from its first row (nothing of it was applied: the apply is one transaction).
    """
    return imports.import_job_run(job_id=job_id).status


@shared_task(name="common.import_jobs_sweep", acks_late=True, reject_on_worker_lost=True)
def import_jobs_sweep() -> dict:
    """Queue again, or fail, the unfinished uploads whose progress stopped (IMPORT_STALE_MINUTES)."""
    return imports.import_jobs_sweep()
