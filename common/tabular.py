"""Reading the spreadsheets users upload: CSV (UTF-8, BOM tolerated) or XLSX (first sheet).

Headers are case-insensitive and in any order; unknown, missing or repeated columns are
reported as row-1 errors so that a typo never passes silently. Rows stream as dicts of
stripped strings keyed by the lower-case column name, numbered as the user sees them in a
spreadsheet (the header is row 1). Blank rows are skipped.

Both formats are read as a stream with hard limits that do not trust the file: at most
`UPLOAD_MAX_ROWS` rows after the header and `UPLOAD_MAX_COLUMNS` columns (settings). A workbook's
declared sheet size is ignored; its sheet XML is watched as it is read, so that a row numbered
past the limit, a value past the last column or a row of millions of cells is refused before the
reader spends time or memory on it, and a workbook whose parts expand far beyond the file (a "zip
bomb") is refused unopened. A damaged file is a file error; a NUL character is a row error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from xml.parsers import expat

from django.conf import settings

from common.errors import FileRejected, RowError
from common.uploads import describe_size

XLSX_MAGIC = b"PK\x03\x04"
# A workbook's parts may expand to at most this many times the file's size: real workbooks expand
# 5 to 20 times; a zip bomb, a thousand. And to at most 20 times the upload limit (1 GB for 50 MB),
# since openpyxl holds the shared strings and styles in memory.
XLSX_MAX_EXPANSION = 100
XLSX_MAX_EXPANDED_PER_UPLOAD_BYTE = 20
# Excel's own limit; more cells than this in one row is a crafted file.
XLSX_MAX_CELLS_IN_ROW = 16_384
# A CSV line longer than this is not a spreadsheet row (the reader stops before holding it).
CSV_MAX_LINE_CHARS = 1 << 20


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    help: str = ""
    example: str = ""


def _file_error(message: str) -> FileRejected:
    return FileRejected([RowError(0, "", message)])


def detect_format(name: str, head: bytes) -> str:
    """'xlsx' or 'csv', from the file's first bytes first and its name second."""
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise _file_error("The file is named .xlsx but is not an Excel workbook.")
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


def _column_number(reference: str) -> int:
    """1 for 'A7', 27 for 'AA7'; 0 if the reference has no letters."""
    number = 0
    for char in reference:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            number = number * 26 + ord(char) - 96
        else:
            break
    return number


class _SheetWatch:
    """The worksheet XML as openpyxl reads it, watched on the way by a streaming (expat) parser.

    openpyxl builds each row whole before it looks at it, and fills every gap between row
    numbers: a row numbered in the millions, or a row of millions of cells, would cost minutes
    and gigabytes. The watch sees each start tag before openpyxl has the row, and stops the read
    with a file error as soon as the sheet goes past the limits.
    """

    def __init__(self, source: IO[bytes], *, max_rows: int, max_columns: int) -> None:
        self.source = source
        self.max_rows = max_rows
        self.max_columns = max_columns
        self.row = 0
        self.cells = 0
        self.column = 0
        self.stop: FileRejected | None = None
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        if tag == "c":
            self.cells += 1
            reference = attrs.get("r")
            self.column = _column_number(reference) if reference else self.column + 1
            if self.cells > XLSX_MAX_CELLS_IN_ROW:
                raise _file_error(
                    f"Row {self.row} of the sheet has more than {XLSX_MAX_CELLS_IN_ROW:,} cells; the file "
                    "cannot be a spreadsheet of this format."
                )
        elif tag in ("v", "is", "f") and self.column > self.max_columns:
            raise _file_error(
                f"Row {self.row} has a value in column {self.column:,}; files have at most "
                f"{self.max_columns} columns. Delete the columns after your data, or save the sheet as CSV."
            )
        elif tag == "row":
            reference = attrs.get("r", "")
            self.row = int(reference) if reference.isdigit() else self.row + 1
            self.cells = self.column = 0
            if self.row > self.max_rows + 1:
                raise _file_error(too_many_rows(self.max_rows))

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        if self.stop is None:
            try:
                self.parser.Parse(data, not data)
            except FileRejected as stop:
                self.stop = stop
            except expat.ExpatError:
                self.stop = damaged()
        if self.stop is not None:
            raise self.stop
        return data

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> _SheetWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def too_many_rows(max_rows: int) -> str:
    return (
        f"The file has more than {max_rows:,} rows after the header. Split it into smaller files, and "
        "delete any rows below your data (even empty, formatted ones)."
    )


def damaged() -> FileRejected:
    return _file_error(
        "The Excel workbook is damaged or incomplete (perhaps cut short while uploading) and cannot be "
        "read. Save it again from Excel, or as CSV UTF-8, and upload it again."
    )


class Table:
    """An uploaded file's header and a stream of its rows."""

    def __init__(
        self,
        fileobj: IO[bytes],
        *,
        name: str,
        columns: Sequence[Column],
        max_rows: int | None = None,
        max_columns: int | None = None,
    ) -> None:
        self.columns = {c.name: c for c in columns}
        self.max_rows = max_rows or settings.UPLOAD_MAX_ROWS
        self.max_columns = max_columns or settings.UPLOAD_MAX_COLUMNS
        head = fileobj.read(4)
        fileobj.seek(0)
        self.format = detect_format(name, head)
        self._fileobj = fileobj
        self._raw_rows = self._xlsx_rows() if self.format == "xlsx" else self._csv_rows()
        self.header = self._read_header()

    def _too_wide(self, number: int, raw: Sequence[str]) -> None:
        if len(raw) > self.max_columns and any(v.strip() for v in raw[self.max_columns :]):
            raise _file_error(
                f"Row {number} has values beyond column {self.max_columns}; files have at most "
                f"{self.max_columns} columns."
            )

    def _csv_lines(self, text: io.TextIOBase) -> Iterator[str]:
        while line := text.readline(CSV_MAX_LINE_CHARS):
            if len(line) >= CSV_MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
                raise _file_error(
                    f"A line of the file is longer than {CSV_MAX_LINE_CHARS:,} characters: it is not a "
                    "spreadsheet row. Check that the file is a CSV export."
                )
            yield line

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        # TextIOWrapper decodes in large blocks (far faster than a codecs reader); detached at the
        # end so that the caller's file stays open and is closed by its owner.
        text = io.TextIOWrapper(self._fileobj, encoding="utf-8-sig", errors="strict", newline="")
        try:
            for number, raw in enumerate(csv.reader(self._csv_lines(text)), start=1):
                if number > self.max_rows + 1:
                    raise _file_error(too_many_rows(self.max_rows))
                self._too_wide(number, raw)
                yield number, raw
        except UnicodeDecodeError:
            raise _file_error("The file is not UTF-8 text. Save it as CSV UTF-8 or XLSX.") from None
        except csv.Error as exc:
            raise _file_error(f"The CSV file cannot be read: {exc}.") from None
        finally:
            if not self._fileobj.closed:
                text.detach()

    def _check_expansion(self) -> None:
        try:
            with zipfile.ZipFile(self._fileobj) as archive:
                expanded = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise damaged() from None
        finally:
            self._fileobj.seek(0)
        self._fileobj.seek(0, 2)
        size = self._fileobj.tell()
        self._fileobj.seek(0)
        if expanded > XLSX_MAX_EXPANSION * size:
            raise _file_error(
                f"The workbook's contents expand to more than {XLSX_MAX_EXPANSION} times the file's size, "
                "which no ordinary spreadsheet does. Save the sheet as CSV UTF-8 and upload that."
            )
        if expanded > XLSX_MAX_EXPANDED_PER_UPLOAD_BYTE * settings.UPLOAD_MAX_BYTES:
            raise _file_error(
                "The workbook is too large to read once unpacked (more than "
                f"{describe_size(XLSX_MAX_EXPANDED_PER_UPLOAD_BYTE * settings.UPLOAD_MAX_BYTES)}). "
                "Save the sheet as CSV UTF-8, or split it into smaller files."
            )

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook

        self._check_expansion()
        try:
            workbook = load_workbook(self._fileobj, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise damaged() from None
        try:
            sheet = workbook.worksheets[0]
            # The declared size (<dimension ref="A1:XFD1048576"/>) is the file's word, not a fact:
            # openpyxl would pad every row to it. Read to the real cells, never past the limits.
            sheet.reset_dimensions()
            opened = sheet._get_source  # openpyxl==3.1.5 opens the sheet's XML here (pinned)
            sheet._get_source = lambda: _SheetWatch(
                opened(), max_rows=self.max_rows, max_columns=self.max_columns
            )
            number = 0
            for number, values in enumerate(
                sheet.iter_rows(values_only=True, max_col=self.max_columns), start=1
            ):
                if values.count(None) == len(values):
                    yield number, []  # a blank row (or a gap between row numbers): nothing to convert
                else:
                    yield number, [_cell_text(v) for v in values]
        except FileRejected:
            raise
        except Exception:  # a truncated member, bad XML, a bad cell: the workbook is damaged
            raise damaged() from None
        finally:
            workbook.close()

    def _read_header(self) -> list[str]:
        try:
            _, raw = next(self._raw_rows)
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
        """(row number, {column: text}) for each non-blank row after the header.

        A row with cells beyond the header carries `__extra__`; one with a NUL character in a cell
        carries `__nul__` (the columns, with the NULs taken out of the values): `row_problems`
        turns both into the row's errors.
        """
        width = len(self.header)
        for number, raw in self._raw_rows:
            values = [v.strip() for v in raw[:width]]
            extra = [v for v in raw[width:] if v and v.strip()]
            if not any(values) and not extra:
                continue
            row = dict(zip(self.header, values + [""] * (width - len(values)), strict=True))
            if extra:
                row["__extra__"] = "yes"
            nul = [column for column, value in row.items() if "\x00" in value]
            if nul or any("\x00" in v for v in extra):
                for column in nul:
                    row[column] = row[column].replace("\x00", "").strip()
                row["__nul__"] = ",".join(nul) or "yes"
            yield number, row


def row_problems(number: int, row: dict[str, Any]) -> list[RowError]:
    """The problems `Table.rows` marks on a row: cells beyond the header, NUL characters."""
    problems = []
    if "__extra__" in row:
        problems.append(RowError(number, "", "this row has more cells than the header has columns"))
    if "__nul__" in row:
        columns = [c for c in row["__nul__"].split(",") if c != "yes"] or [""]
        problems.extend(
            RowError(
                number,
                column,
                "the cell holds a NUL character (code 0), which is not text; "
                "delete it or save the file again from the spreadsheet",
            )
            for column in columns
        )
    return problems


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
