"""Supplier pages for catalogue files: upload, watch the progress, read the outcome; templates.

Small files are imported while the supplier waits; larger ones run on a Celery worker and the
status page follows them (a few lines of JS poll the API's status endpoint every second; without
JS the page refreshes itself). The file is for the supplier the request acts for
(`organisations.acting`); the list of uploads is that supplier's; a job's own page is open to the
people of its supplier: 404 otherwise.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from catalogue.imports.importer import COLUMNS, KIND, catalogue_import_start
from common import audit
from common.errors import DomainError, NotFound
from common.imports import UploadedFile, import_job_for_user, import_job_status, import_jobs_for_user
from common.tabular import template_csv, template_xlsx
from common.uploads import limits_text, validate_upload
from organisations.acting import acting_for
from organisations.models import OrganisationKind

TEMPLATE_NAME = "catalogue-template"


class CatalogueUploadForm(forms.Form):
    file = forms.FileField(
        label="Catalogue file",
        help_text="A CSV (UTF-8) or Excel (.xlsx) file with one row per item, as in the template.",
        widget=forms.ClearableFileInput(attrs={"class": "nhsuk-input", "accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += " " + limits_text()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            validate_upload(upload)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return upload


def _acting_or_404(request: HttpRequest):
    acting = acting_for(request, kind=OrganisationKind.SUPPLIER)
    if acting.supplier is None:
        raise Http404("You do not act for a supplier.")
    return acting


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    acting = _acting_or_404(request)
    bound = request.method == "POST"
    form = CatalogueUploadForm(request.POST if bound else None, request.FILES if bound else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = catalogue_import_start(
                supplier=acting.supplier,
                actor=request.user,
                upload=UploadedFile(name=upload.name, content=upload),
            )
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            return redirect("catalogue:import-status", pk=job.pk)
    return render(
        request,
        "catalogue/imports/upload.html",
        {
            "form": form,
            "supplier": acting.supplier,
            "jobs": import_jobs_for_user(
                kind=KIND, user=request.user, organisation_id=acting.supplier.pk if acting.supplier else None
            ),
            "columns": COLUMNS,
        },
    )


@login_required
@require_GET
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = import_job_for_user(kind=KIND, user=request.user, job_id=pk)
    except NotFound:
        audit.record(kind=audit.ACCESS_DENIED, actor=request.user, subject=f"import:{pk}", request=request)
        raise Http404("No such import.") from None
    return render(
        request,
        "catalogue/imports/status.html",
        {
            "job": job,
            "state": import_job_status(job),
            "status_url": reverse("catalogue-import-detail", args=[job.pk]),
        },
    )


@require_GET
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    """The catalogue file's header and an example row, as CSV or XLSX (open to anyone)."""
    if fmt == "csv":
        response = HttpResponse(template_csv(COLUMNS), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            template_xlsx(COLUMNS, sheet_title="Catalogue"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404("Templates come as csv or xlsx.")
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_NAME}.{fmt}"'
    return response


urlpatterns = [
    path("supplier/imports/", import_upload, name="import-upload"),
    path("supplier/imports/<int:pk>/", import_status, name="import-status"),
    path("imports/template.<str:fmt>", import_template, name="import-template"),
]
