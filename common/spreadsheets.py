"""One neutraliser for every CSV/XLSX export: untrusted text never becomes a spreadsheet formula."""

from __future__ import annotations

from collections.abc import Iterable

# OWASP CSV injection guidance: cells starting with these are read as formulas by spreadsheet apps.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text starting with a formula trigger is prefixed with a single quote; numbers stay numeric."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    """A row with every text cell neutralised."""
    return [safe_cell(value) for value in row]
