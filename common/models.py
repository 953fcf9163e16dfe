from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    """Append-only: bulk updates and deletes are refused here and by a database trigger."""

    def update(self, **kwargs):  # type: ignore[override]
        raise PermissionError("Audit events cannot be changed.")

    def delete(self):  # type: ignore[override]
        raise PermissionError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """A security- or money-relevant event. Appended by `common.audit.record`, never edited."""

    class Kind:
        """The kinds recorded before kinds were declared by their apps, kept at their stored values
        (the log is append-only, so stored rows are never rewritten). Closed: a new kind is a
        namespaced string its own app declares with `common.audit.register_kind("app.kind", label)`;
        the labels of these live in `common.audit.STORED_KINDS`."""

        SIGN_IN = "sign_in"
        SIGN_IN_FAILED = "sign_in_failed"
        SIGN_OUT = "sign_out"
        LOCKED_OUT = "locked_out"
        ACCESS_DENIED = "access_denied"
        PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of event, not a password)
        MEMBERSHIP_CHANGED = "membership_changed"
        OFFER_MODERATED = "offer_moderated"
        FILE_IMPORTED = "file_imported"
        APPROVAL = "approval"
        TRANSFER = "transfer"

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Any registered kind (`common.audit.register_kind`): no choices here, so a new kind needs no migration.
    kind = models.CharField(max_length=80, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A snapshot, so the record reads the same if the user is later renamed.
    actor_identifier = models.CharField(max_length=254, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject = models.CharField(max_length=200, blank=True, help_text="What the event concerns, e.g. offer:42")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()
    # The back office lists the log, which makes Wagtail track references from its rows: four
    # queries on every event written, for a log nothing is ever edited through.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind_label} {self.actor_identifier}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events cannot be deleted.")

    @property
    def kind_label(self) -> str:
        """What people read for the kind: its registered label."""
        from common.audit import kind_label

        return kind_label(self.kind)


def import_file_path(instance: ImportJob, filename: str) -> str:
    """Where an uploaded file is kept: a generated name, never the uploader's (which is kept in
    `original_name` for people to read). The extension is kept only if it is one we accept."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    suffix = f".{extension}" if extension in ("csv", "xlsx") else ""
    return timezone.now().strftime("imports/%Y/%m/") + uuid.uuid4().hex + suffix


class ImportJob(models.Model):
    """One uploaded file on its way through validation and import (catalogue, purchase history, ...).

    `common.imports` runs it for the kind's app; this row carries the progress that pages and the
    API show.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        VALIDATING = "validating", "Checking"
        APPLYING = "applying", "Importing"
        SUCCEEDED = "succeeded", "Imported"
        REJECTED = "rejected", "Rejected: nothing applied"
        FAILED = "failed", "Failed: nothing applied"

    FINISHED = (Status.SUCCEEDED, Status.REJECTED, Status.FAILED)

    kind = models.CharField(max_length=40, db_index=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Under MEDIA_ROOT, which no URL serves (marketplace/urls.py): read only through the importers.
    file = models.FileField(upload_to=import_file_path)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the job last moved (stored, started a phase, checked a block of rows); the sweeper
    # (common.imports.import_jobs_sweep) takes up or fails unfinished jobs that stopped moving.
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times a run has started")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def problem_count(self) -> int:
        """Every problem found; `errors` lists the first thousand and a line counting the rest."""
        return int(self.summary.get("problems", len(self.errors))) if self.errors else 0

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.processed_rows / self.total_rows))
