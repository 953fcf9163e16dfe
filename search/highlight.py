"""Marking the searched words in a title, safely (the text is escaped first)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _matches(word: str, terms: set[str]) -> bool:
    lower = word.lower()
    return any(lower.startswith(t) or (len(lower) >= 4 and t.startswith(lower)) for t in terms)


def highlight(text: str, terms: Iterable[str]) -> SafeString:
    """'Nitrile glove' with terms {'gloves'} -> 'Nitrile <mark>glove</mark>'."""
    wanted = {t.lower() for t in terms if len(t) >= 2}
    if not wanted:
        return escape(text)
    out, last = [], 0
    for match in _WORD.finditer(text):
        if _matches(match.group(), wanted):
            out.append(escape(text[last : match.start()]))
            out.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped
