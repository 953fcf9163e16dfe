"""Analytics pages, purchase-history uploads and manual mapping. Pages read summaries via selectors."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from catalogue.models import Product
from common.errors import DomainError, NotFound
from common.imports import UploadedFile, import_job_for_user, import_job_progress, import_job_status
from common.tabular import template_csv, template_xlsx
from organisations.acting import acting_for, choices
from organisations.models import OrganisationKind, Region
from pricing import charts, reports, selectors, services
from pricing.filters import AnalyticsFilter
from pricing.forms import MappingForm, UploadForm
from pricing.imports import COLUMNS, KIND
from pricing.matching import normalise
from pricing.models import IdentifierKind, Period


def trust_member_required(view):
    """Analytics are for people who act for a trust (and back-office staff); others get 404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not (request.user.is_staff or any(o.is_trust for o in choices(request))):
            raise Http404("Price analytics are for NHS trusts.")
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None

    return wrapped


def _filters(request: HttpRequest) -> tuple[AnalyticsFilter, dict, Period | None]:
    filterset = AnalyticsFilter(request.GET or None)
    cleaned = filterset.cleaned()
    return filterset, cleaned, selectors.period_from_slug(cleaned["period"])


@require_GET
@trust_member_required
def national(request: HttpRequest) -> HttpResponse:
    filterset, cleaned, period = _filters(request)
    context = {
        "filter": filterset,
        "period": period,
        "region": cleaned["region"],
        "region_label": dict(Region.choices).get(cleaned["region"], ""),
    }
    if period is not None:
        region_suppressed = bool(cleaned["region"]) and selectors.group_too_small(
            selectors.region_trusts(period=period, region=cleaned["region"])
        )
        context.update(
            rows=selectors.top_savings(period=period, category=cleaned["category"], region=cleaned["region"]),
            totals=selectors.national_totals(period=period),
            regions=selectors.region_totals(period=period),
            viewer=acting_for(request, kind=OrganisationKind.TRUST).trust,
            region_suppressed=region_suppressed,
            min_trusts=selectors.min_group_trusts(),
        )
    return render(request, "pricing/national.html", context)


@require_GET
@trust_member_required
def product_variance(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("category"), pk=product_id)
    filterset, _, period = _filters(request)
    variance = None
    chart = ""
    viewer = acting_for(request, kind=OrganisationKind.TRUST).trust
    if period is not None:
        variance = selectors.product_variance(product=product, period=period, viewer=viewer)
        if variance.stats:
            chart = charts.strip_plot(
                points=variance.points,
                target=variance.stats.ppu_p10,
                median=variance.stats.ppu_median,
                title=f"Price per unit paid by each trust for {product.name}, {period.label}",
            )
    return render(
        request,
        "pricing/product.html",
        {
            "product": product,
            "filter": filterset,
            "period": period,
            "variance": variance,
            "chart": chart,
            "viewer": viewer,
        },
    )


@require_GET
@trust_member_required
def trust_dashboard(request: HttpRequest, ods_code: str) -> HttpResponse:
    trust = selectors.trust_for_user_or_404(user=request.user, ods_code=ods_code)
    filterset, cleaned, period = _filters(request)
    context = {"trust": trust, "filter": filterset, "period": period}
    trend = selectors.trust_trend(trust=trust)
    context["trend"] = trend
    context["trend_chart"] = charts.trend_bars(
        points=trend, title=f"Possible savings per quarter, {trust.name}"
    )
    if period is not None:
        context.update(
            totals=selectors.trust_totals(trust=trust, period=period),
            opportunities=selectors.trust_opportunities(
                trust=trust, period=period, category=cleaned["category"], limit=20
            ),
        )
    context["unmatched"] = selectors.unmatched_lines(trust=trust).count()
    return render(request, "pricing/trust.html", context)


@require_GET
@trust_member_required
def trust_report(request: HttpRequest, ods_code: str, fmt: str) -> HttpResponse:
    if fmt not in ("pdf", "csv", "xlsx"):
        raise Http404("No such format.")
    trust = selectors.trust_for_user_or_404(user=request.user, ods_code=ods_code)
    _, cleaned, period = _filters(request)
    if period is None:
        raise Http404("No figures yet.")
    report = reports.savings_report(trust=trust, period=period, category=cleaned["category"])
    if fmt == "pdf":
        body, content_type = reports.as_pdf(report), "application/pdf"
    elif fmt == "csv":
        body, content_type = reports.as_csv(report), "text/csv; charset=utf-8"
    else:
        body = reports.as_xlsx(report)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="savings-{trust.ods_code}-{period.slug}.{fmt}"'
    return response


@require_http_methods(["GET", "POST"])
@trust_member_required
def unmatched(request: HttpRequest, ods_code: str) -> HttpResponse:
    """The trust's lines no product matched, to map by hand; a mapping is remembered."""
    trust = selectors.trust_for_user_or_404(user=request.user, ods_code=ods_code)
    lines = selectors.unmatched_lines(trust=trust)
    form = MappingForm(request.POST or None)
    chosen = None
    if request.method == "POST":
        chosen = selectors.unmatched_line_for_trust_or_404(
            trust=trust, line_id=_int(request.POST.get("line"))
        )
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            value = getattr(chosen, kind)
            if not normalise(kind, value):
                form.add_error("kind", "This line has no such identifier; choose another.")
            else:
                try:
                    _, count = services.product_mapping_create(
                        user=request.user,
                        trust=trust,
                        kind=kind,
                        value=value,
                        product_id=form.cleaned_data["product"].pk,
                    )
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    product_name = form.cleaned_data["product"].name
                    messages.success(
                        request,
                        f"Mapped {count} line{'s' if count != 1 else ''} to {product_name}. "
                        f"Future lines with this {IdentifierKind(kind).label} will match too.",
                    )
                    return redirect("pricing:unmatched", ods_code=trust.ods_code)
    count = lines.count()
    return render(
        request,
        "pricing/unmatched.html",
        {
            "trust": trust,
            "lines": lines[:200],
            "count": count,
            "has_lines": bool(count) or selectors.lines_count(trust=trust) > 0,
            "form": form,
            "chosen": chosen,
        },
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such line.") from None


@require_http_methods(["GET", "POST"])
@trust_member_required
def upload(request: HttpRequest) -> HttpResponse:
    # For the trust the header's switcher shows; the page says which, and every row must name it.
    trust = acting_for(request, kind=OrganisationKind.TRUST).trust
    if trust is None:
        raise NotFound("You do not act for an NHS trust.")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            job = services.purchase_history_import_start(
                trust=trust, actor=request.user, upload=UploadedFile(name=file.name, content=file.file)
            )
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            return redirect("pricing:import-detail", job_id=job.pk)
    return render(
        request,
        "pricing/upload.html",
        {"form": form, "columns": COLUMNS, "trust": trust, "several": len(choices(request)) > 1},
    )


@require_GET
@trust_member_required
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_for_user(kind=KIND, user=request.user, job_id=job_id)
    return render(
        request,
        "pricing/import_detail.html",
        {
            "job": job,
            "processed": import_job_progress(job),
            "status_url": reverse("pricing:import-status", args=[job.pk]),
        },
    )


@require_GET
@trust_member_required
def import_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = import_job_for_user(kind=KIND, user=request.user, job_id=job_id)
    return JsonResponse(import_job_status(job))


@require_GET
@login_required
def template(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404("No such format.")
    if fmt == "csv":
        response = HttpResponse(template_csv(COLUMNS), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            template_xlsx(COLUMNS, sheet_title="Purchase history"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="purchase-history-template.{fmt}"'
    return response
