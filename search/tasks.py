"""Celery tasks: thin wrappers over search.services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from search import registry, services


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=12,
    acks_late=True,
)
def index_objects(object_type: str, object_ids: list[int]) -> dict:
    """Bring these objects' documents up to date; retried with backoff while the engine is down."""
    outcome = services.index_documents(object_type=object_type, object_ids=object_ids)
    return {"indexed": outcome.indexed, "deleted": outcome.deleted}


@shared_task(acks_late=True)
def reconcile_index() -> list[dict]:
    """Beat task: repair drift between every document type's source and the index."""
    return [
        services.reconcile_index(object_type=document_type.name).__dict__
        for document_type in registry.all_types()
    ]
