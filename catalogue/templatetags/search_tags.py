from __future__ import annotations

from django import template
from django.http import QueryDict

from search.highlight import highlight as highlight_terms

register = template.Library()


@register.filter
def highlight(text: str, terms) -> str:
    return highlight_terms(text, terms or ())


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes them)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value is not None and value != "":
            params[key] = value
    return params.urlencode()
