"""Supplier pages for catalogue files: upload, watch the progress, read the outcome; templates.

Small files are imported while the supplier waits; larger ones run on a Celery worker and the
status page follows them (a few lines of JS poll the API's status endpoint every second; without
JS the page refreshes itself). Jobs are scoped to the suppliers the user acts for: 404 otherwise.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from catalogue.importing import COLUMNS, KIND, catalogue_import_start
from common import audit, bounds
from common.errors import DomainError, NotFound
from common.imports import UploadedFile, import_job_for_user, import_job_status, import_jobs_for_user
from common.models import AuditEvent
from common.tabular import template_csv, template_xlsx
from common.uploads import limits_text, validate_upload
from organisations.permissions import suppliers_for

TEMPLATE_NAME = "catalogue-template"


class CatalogueUploadForm(forms.Form):
    supplier = bounds.BoundedModelChoiceField(
        queryset=None, required=False, empty_label=None, label="Supplier"
    )
    file = forms.FileField(
        label="Catalogue file",
        help_text="A CSV (UTF-8) or Excel (.xlsx) file with one row per item, as in the template.",
        widget=forms.ClearableFileInput(attrs={"class": "nhsuk-input", "accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, suppliers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += " " + limits_text()
        self.fields["supplier"].queryset = suppliers
        self.fields["supplier"].widget.attrs["class"] = "nhsuk-select"
        only = list(suppliers[:2])
        self.only_supplier = only[0] if len(only) == 1 else None
        if self.only_supplier is not None:
            self.fields["supplier"].initial = self.only_supplier
            self.fields["supplier"].widget = forms.HiddenInput()

    def clean_supplier(self):
        supplier = self.cleaned_data.get("supplier") or self.only_supplier
        if supplier is None:
            raise forms.ValidationError("Choose the supplier this catalogue is for.")
        return supplier

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            validate_upload(upload)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return upload


def _suppliers_or_404(request: HttpRequest):
    suppliers = suppliers_for(request.user).order_by("name")
    if not suppliers.exists():
        raise Http404("You do not act for a supplier.")
    return suppliers


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    suppliers = _suppliers_or_404(request)
    bound = request.method == "POST"
    form = CatalogueUploadForm(
        request.POST if bound else None, request.FILES if bound else None, suppliers=suppliers
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = catalogue_import_start(
                supplier=form.cleaned_data["supplier"],
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
            "jobs": import_jobs_for_user(kind=KIND, user=request.user),
            "columns": COLUMNS,
        },
    )


@login_required
@require_GET
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = import_job_for_user(kind=KIND, user=request.user, job_id=pk)
    except NotFound:
        audit.record(
            kind=AuditEvent.Kind.ACCESS_DENIED, actor=request.user, subject=f"import:{pk}", request=request
        )
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
