"""Celery tasks for the catalogue: thin and idempotent, the work is in catalogue.importing."""

from __future__ import annotations

from celery import shared_task

from catalogue.importing import catalogue_import_run


@shared_task(acks_late=True)
def import_catalogue_file(job_id: int) -> str:
    """Check and apply one uploaded catalogue file. Running it again for a finished job does
    nothing (a redelivered message), and a job cut short applied nothing, so it simply reruns."""
    return catalogue_import_run(job_id=job_id).status
