"""API for suppliers' systems: upload a catalogue file, then follow its job to the outcome.

POST /api/v1/catalogue/imports/ (multipart `file`; the supplier is the one the request acts for, named
by the `X-Acting-Organisation` header when the caller acts for several) answers 202 Accepted with
the job and its status URL in `Location`; GET /api/v1/catalogue/imports/{id}/ gives status,
processed and total rows, every problem by row and column, and the summary. Jobs are scoped to
the suppliers the caller acts for: anyone else's job is 404.
"""

from __future__ import annotations

from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.imports.importer import KIND, catalogue_import_start
from common.api import ImportStatusSerializer, error_responses
from common.errors import DomainError
from common.imports import UploadedFile, import_job_for_user, import_job_status
from common.uploads import validate_upload
from organisations.acting import HEADER, acting_for
from organisations.models import OrganisationKind


class CatalogueUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The catalogue file: CSV (UTF-8) or XLSX, as in docs/formats.md.")

    def validate_file(self, value):
        try:
            validate_upload(value)
        except DomainError as error:
            raise serializers.ValidationError(error.message) from None
        return value


def _status_body(request: Request, job) -> dict:
    body = import_job_status(job)
    body["url"] = request.build_absolute_uri(reverse("catalogue-import-detail", args=[job.pk]))
    return body


class CatalogueImportCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="catalogue_imports_create",
        tags=["catalogue imports"],
        request={"multipart/form-data": CatalogueUploadSerializer},
        responses={
            202: ImportStatusSerializer,
            **error_responses(
                400,
                403,
                e400="No file, not a CSV/XLSX file within the upload limits (docs/formats.md), or the "
                f"caller acts for several suppliers and sent no {HEADER} header.",
                e403=f"The caller does not act for a supplier, or {HEADER} names an organisation they "
                "do not act for (or one that is not a supplier).",
            ),
        },
        description="Upload a catalogue file. It is checked whole and applied all-or-nothing; follow "
        "the job at the URL in the Location header.",
    )
    def post(self, request: Request) -> Response:
        incoming = CatalogueUploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        supplier = acting_for(request, kind=OrganisationKind.SUPPLIER).require()
        upload = incoming.validated_data["file"]
        job = catalogue_import_start(
            supplier=supplier, actor=request.user, upload=UploadedFile(name=upload.name, content=upload)
        )
        body = _status_body(request, job)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class CatalogueImportDetailView(APIView):
    @extend_schema(
        operation_id="catalogue_imports_retrieve",
        tags=["catalogue imports"],
        responses={200: ImportStatusSerializer, **error_responses(404, e404="No such import for you.")},
    )
    def get(self, request: Request, pk: int) -> Response:
        job = import_job_for_user(kind=KIND, user=request.user, job_id=pk)
        return Response(_status_body(request, job))


urlpatterns = [
    path("catalogue/imports/", CatalogueImportCreateView.as_view(), name="catalogue-import-list"),
    path("catalogue/imports/<int:pk>/", CatalogueImportDetailView.as_view(), name="catalogue-import-detail"),
]
