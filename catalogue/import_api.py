"""API for suppliers' systems: upload a catalogue file, then follow its job to the outcome.

POST /api/v1/catalogue/imports/ (multipart `file`, optional `supplier`) answers 202 Accepted with
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

from catalogue.importing import KIND, catalogue_import_start
from common.api import ImportStatusSerializer, error_responses
from common.errors import DomainError, NotFound, PermissionDenied
from common.imports import UploadedFile, import_job_for_user, import_job_status
from common.uploads import validate_upload
from organisations.permissions import suppliers_for


class CatalogueUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The catalogue file: CSV (UTF-8) or XLSX, as in docs/formats.md.")
    supplier = serializers.IntegerField(
        required=False, help_text="The supplier's id; needed only if you act for more than one supplier."
    )

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
                404,
                e400="No file, not a CSV/XLSX file within the upload limits (docs/formats.md), or several "
                "suppliers and none named.",
                e403="The caller does not act for a supplier.",
                e404="The caller does not act for the supplier named.",
            ),
        },
        description="Upload a catalogue file. It is checked whole and applied all-or-nothing; follow "
        "the job at the URL in the Location header.",
    )
    def post(self, request: Request) -> Response:
        incoming = CatalogueUploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        suppliers = suppliers_for(request.user)
        chosen = incoming.validated_data.get("supplier")
        if chosen is not None:
            supplier = suppliers.filter(pk=chosen).first()
            if supplier is None:
                raise NotFound("No such supplier.", field="supplier")
        else:
            candidates = list(suppliers[:2])
            if not candidates:
                raise PermissionDenied("Only suppliers upload catalogue files.")
            if len(candidates) > 1:
                raise DomainError("You act for more than one supplier: say which.", field="supplier")
            supplier = candidates[0]
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
