"""A trust's savings report: PDF (WeasyPrint, with its charts), CSV and XLSX from the same figures."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.safestring import SafeString

from catalogue.models import Category
from common.pdf import render_pdf
from common.spreadsheets import safe_row
from organisations.models import Organisation
from pricing import charts, selectors
from pricing.models import Period, TrustSavings

HEADER = [
    "product_id",
    "product",
    "units",
    "spend",
    "price_per_unit",
    "target_price_per_unit",
    "median_price_per_unit",
    "possible_saving_vs_target",
    "possible_saving_vs_median",
]


@dataclass(frozen=True)
class SavingsReport:
    trust: Organisation
    period: Period
    category: Category | None
    totals: TrustSavings | None
    opportunities: list[selectors.Opportunity]
    trend: list[selectors.TrendPoint]
    trend_chart: SafeString


def savings_report(*, trust: Organisation, period: Period, category: Category | None = None) -> SavingsReport:
    trend = selectors.trust_trend(trust=trust)
    return SavingsReport(
        trust=trust,
        period=period,
        category=category,
        totals=selectors.trust_totals(trust=trust, period=period),
        opportunities=selectors.trust_opportunities(
            trust=trust, period=period, category=category, limit=None
        ),
        trend=trend,
        trend_chart=charts.trend_bars(points=trend, title=f"Possible savings per quarter, {trust.name}"),
    )


def rows(report: SavingsReport) -> list[list]:
    return [
        [
            o.product.pk,
            o.product.name,
            o.units,
            o.spend,
            o.ppu,
            o.target,
            o.median,
            o.saving_vs_target,
            o.saving_vs_median,
        ]
        for o in report.opportunities
    ]


def as_pdf(report: SavingsReport) -> bytes:
    return render_pdf("pricing/report_pdf.html", {"report": report, "generated_at": timezone.now()})


def as_csv(report: SavingsReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(safe_row(row) for row in rows(report))
    return out.getvalue().encode("utf-8")


def as_xlsx(report: SavingsReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Savings"
    title = f"{report.trust.name} ({report.trust.ods_code}): possible savings, {report.period.label}"
    sheet.append(safe_row([title]))
    sheet.append(HEADER)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows(report):
        sheet.append(safe_row(row))
    for column, fmt in (
        ("C", "0.000"),
        ("D", "£#,##0.00"),
        ("E", "0.0000"),
        ("F", "0.0000"),
        ("G", "0.0000"),
    ):
        for cell in sheet[column][2:]:
            cell.number_format = fmt
    for column in ("H", "I"):
        for cell in sheet[column][2:]:
            cell.number_format = "£#,##0.00"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
