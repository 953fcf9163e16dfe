"""Reading the spreadsheets users upload: CSV (UTF-8, BOM tolerated) or XLSX (first sheet).

Headers are case-insensitive and in any order; unknown, missing or repeated columns are
reported as row-1 errors so that a typo never passes silently. Rows stream as dicts of
stripped strings keyed by the lower-case column name, numbered as the user sees them in a
spreadsheet (the header is row 1). Blank rows are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from common.errors import FileRejected, RowError

XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    help: str = ""
    example: str = ""


def detect_format(name: str, head: bytes) -> str:
    """'xlsx' or 'csv', from the file's first bytes first and its name second."""
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise FileRejected([RowError(0, "", "The file is named .xlsx but is not an Excel workbook.")])
    return "csv"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # Spreadsheets hold numbers as binary floats; repr gives the shortest exact decimal text.
        return format(Decimal(repr(value)).normalize(), "f") if value != int(value) else str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class Table:
    """An uploaded file's header and a stream of its rows."""

    def __init__(self, fileobj: IO[bytes], *, name: str, columns: Sequence[Column]) -> None:
        self.columns = {c.name: c for c in columns}
        head = fileobj.read(4)
        fileobj.seek(0)
        self.format = detect_format(name, head)
        self._fileobj = fileobj
        self._raw_rows = self._xlsx_rows() if self.format == "xlsx" else self._csv_rows()
        self.header = self._read_header()

    def _csv_rows(self) -> Iterator[list[str]]:
        # TextIOWrapper decodes in large blocks (far faster than a codecs reader); detached at the
        # end so that the caller's file stays open and is closed by its owner.
        text = io.TextIOWrapper(self._fileobj, encoding="utf-8-sig", errors="strict", newline="")
        try:
            yield from csv.reader(text)
        except UnicodeDecodeError:
            raise FileRejected(
                [RowError(0, "", "The file is not UTF-8 text. Save it as CSV UTF-8 or XLSX.")]
            ) from None
        except csv.Error as exc:
            raise FileRejected([RowError(0, "", f"The CSV file cannot be read: {exc}.")]) from None
        finally:
            if not self._fileobj.closed:
                text.detach()

    def _xlsx_rows(self) -> Iterator[list[str]]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self._fileobj, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise FileRejected([RowError(0, "", "The Excel workbook cannot be opened.")]) from None
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(v) for v in values]
        finally:
            workbook.close()

    def _read_header(self) -> list[str]:
        try:
            raw = next(self._raw_rows)
        except StopIteration:
            raise FileRejected([RowError(1, "", "The file is empty: it needs a header row.")]) from None
        header = [h.strip().lower() for h in raw]
        while header and header[-1] == "":
            header.pop()  # spreadsheets often carry empty trailing header cells
        errors: list[RowError] = []
        seen: set[str] = set()
        for name in header:
            if name == "":
                errors.append(RowError(1, "", "A column has no name in the header row."))
            elif name not in self.columns:
                errors.append(RowError(1, name, "unknown column (check the spelling against the template)"))
            elif name in seen:
                errors.append(RowError(1, name, "this column appears more than once"))
            seen.add(name)
        for column in self.columns.values():
            if column.required and column.name not in seen:
                errors.append(RowError(1, column.name, "required column is missing"))
        if errors:
            raise FileRejected(errors)
        return header

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {column: text}) for each non-blank row after the header."""
        width = len(self.header)
        for index, raw in enumerate(self._raw_rows, start=2):
            values = [v.strip() for v in raw[:width]]
            extra = [v for v in raw[width:] if v and v.strip()]
            if not any(values) and not extra:
                continue
            row = dict(zip(self.header, values + [""] * (width - len(values)), strict=True))
            if extra:
                row["__extra__"] = "yes"
            yield index, row


def template_csv(columns: Sequence[Column]) -> str:
    """A CSV template with the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in columns])
    writer.writerow([c.example for c in columns])
    return out.getvalue()


def template_xlsx(columns: Sequence[Column], *, sheet_title: str) -> bytes:
    """An XLSX template: the header (bold), an example row, and a second sheet of column notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    sheet.append([c.name for c in columns])
    sheet.append([c.example for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    notes = workbook.create_sheet("Column notes")
    notes.append(["column", "required", "meaning and rules"])
    for c in columns:
        notes.append([c.name, "yes" if c.required else "no", c.help])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
