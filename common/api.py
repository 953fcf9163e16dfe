"""API pieces every app's upload endpoints share, so that all imports answer in one shape."""

from __future__ import annotations

from rest_framework import serializers

from common.models import ImportJob


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row (the header is row 1); 0 for the whole file.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportStatusSerializer(serializers.Serializer):
    """What `common.imports.import_job_status` returns, plus the job's own URL."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportJob.Status.values)
    status_display = serializers.CharField()
    finished = serializers.BooleanField()
    file_name = serializers.CharField()
    processed = serializers.IntegerField(help_text="Rows checked so far.")
    total = serializers.IntegerField(help_text="Rows in the file (0 until counted).")
    percent = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    summary = serializers.DictField(help_text="Once imported: what was created, updated or left unchanged.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="Poll this until `finished` is true.")
