"""Rendering a Django template to PDF with WeasyPrint (charts as inline SVG work as they are)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template: str, context: dict, *, base_url: str | None = None) -> bytes:
    """The template rendered to PDF bytes. Relative URLs resolve against `base_url` (default SITE_URL)."""
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=base_url or getattr(settings, "SITE_URL", None)).write_pdf()
