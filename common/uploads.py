"""The limits every uploaded spreadsheet meets, whichever way it arrives (page, API, command).

`validate_upload` checks the name, the content and the size before a file is stored; the reader
(`common.tabular`) enforces the row and column limits while it streams the file. The limits are
settings read from the environment (README, "Environment variables") and are described for users
in docs/formats.md ("Limits").
"""

from __future__ import annotations

import zipfile
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from common.errors import DomainError

ALLOWED_EXTENSIONS = (".csv", ".xlsx")
ALLOWED_TEXT = "a CSV file (.csv, UTF-8) or an Excel workbook (.xlsx)"
XLSX_MAGIC = b"PK\x03\x04"
# First bytes of files people pick by mistake, named so the message can say what the file is.
OTHER_FORMATS = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook (or another Office 97-2003 file)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
)
SNIFF_BYTES = 8192


def max_bytes() -> int:
    return settings.UPLOAD_MAX_BYTES


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def file_size(fileobj: Any) -> int:
    size = getattr(fileobj, "size", None)
    if isinstance(size, int):
        return size
    position = fileobj.tell()
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(position)
    return size


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 text, allowing a character cut in two at the end of the sample."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def _is_workbook(fileobj: IO[bytes]) -> bool | None:
    """True for an Excel workbook, False for another ZIP, None for a ZIP that cannot be read."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        fileobj.seek(0)
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def validate_upload(fileobj: Any, *, name: str | None = None, field: str = "file") -> str:
    """Check an uploaded file's name, content and size; return its format, 'csv' or 'xlsx'.

    Raises `DomainError` naming `field` and saying what is allowed. The file is left at its start.
    """
    name = name if name is not None else getattr(fileobj, "name", "") or ""
    lowered = name.lower()
    extension = next((ext for ext in ALLOWED_EXTENSIONS if lowered.endswith(ext)), None)
    if extension is None:
        raise DomainError(
            f"Upload {ALLOWED_TEXT}; other kinds of file are not accepted (save the spreadsheet as one "
            "of these).",
            field=field,
        )
    size = file_size(fileobj)
    if size == 0:
        raise DomainError(f"The file is empty: upload {ALLOWED_TEXT} with a header row.", field=field)
    if size > max_bytes():
        raise DomainError(
            f"The file is {describe_size(size)}; files of up to {describe_size(max_bytes())} are accepted. "
            "Split it into smaller files.",
            field=field,
        )
    fileobj.seek(0)
    head = fileobj.read(SNIFF_BYTES)
    fileobj.seek(0)
    if extension == ".xlsx":
        workbook = _is_workbook(fileobj) if head.startswith(XLSX_MAGIC) else False
        if workbook is None:
            raise DomainError(
                "The Excel workbook is damaged or incomplete (perhaps cut short while uploading) and "
                "cannot be read. Save it again from Excel, or as CSV UTF-8, and upload it again.",
                field=field,
            )
        if not workbook:
            raise DomainError(
                "The file is named .xlsx but is not an Excel workbook. Save it from Excel as "
                "'Excel Workbook (.xlsx)', or as CSV UTF-8.",
                field=field,
            )
        return "xlsx"
    for magic, what in OTHER_FORMATS:
        if head.startswith(magic):
            hint = " Name it .xlsx." if magic == XLSX_MAGIC and _is_workbook(fileobj) else ""
            if hint:
                what = "an Excel workbook"
            raise DomainError(
                f"The file is named .csv but is {what}.{hint or f' Upload {ALLOWED_TEXT}.'}", field=field
            )
    if not _looks_like_text(head):
        raise DomainError(
            "The file is named .csv but is not UTF-8 text. Save it as 'CSV UTF-8' or as .xlsx.", field=field
        )
    return "csv"


class CappedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler, keeping at most one byte more than UPLOAD_MAX_BYTES on disk.

    Django stores a whole upload before any form or serializer sees it, so a 20 GB body would
    fill the disk first. This handler stops writing past the limit but counts every byte, so the
    file reaches `validate_upload` with its true size and is refused with a message that says so.
    """

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.kept = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = max_bytes() + 1 - self.kept
        if room > 0:
            piece = raw_data[:room]
            self.file.write(piece)
            self.kept += len(piece)


def limits_text() -> str:
    """The limits in a sentence, for form help texts."""
    return (
        f"{ALLOWED_TEXT[0].upper()}{ALLOWED_TEXT[1:]}, up to {describe_size(max_bytes())}, "
        f"{settings.UPLOAD_MAX_ROWS:,} rows and {settings.UPLOAD_MAX_COLUMNS} columns."
    )
