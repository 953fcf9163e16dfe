"""Reading an uploaded spreadsheet never trusts the file: the sheet's declared size is ignored,
rows and columns stop at the limits, a damaged workbook is a clear file error, and a NUL
character is the row's problem. Crafted files are refused quickly and say why."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from common.errors import FileRejected
from common.tabular import Column, Table, row_problems

COLUMNS = (Column("sku", required=True), Column("name"), Column("price"))


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(content: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change`, re-zipped."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def declaring(dimension: str, *, append: str = ""):
    def change(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>'.encode(), xml)
        return xml.replace(b"</sheetData>", append.encode() + b"</sheetData>")

    return change


def read(content: bytes, name: str = "file.xlsx", **limits) -> list[tuple[int, dict[str, str]]]:
    return list(Table(io.BytesIO(content), name=name, columns=COLUMNS, **limits).rows())


def refusal(content: bytes, name: str = "file.xlsx", **limits) -> str:
    with pytest.raises(FileRejected) as raised:
        read(content, name, **limits)
    [problem] = raised.value.errors
    assert problem.row == 0
    return problem.message


GOOD = [["sku", "name", "price"], ["A-1", "Gloves", 4.2], ["A-2", "Aprons", 3]]


def test_a_sheet_declaring_the_whole_grid_is_read_as_the_cells_it_has():
    crafted = rewritten(workbook(GOOD), declaring("A1:XFD1048576"))
    assert len(crafted) < 6_000

    assert read(crafted) == [
        (2, {"sku": "A-1", "name": "Gloves", "price": "4.2"}),
        (3, {"sku": "A-2", "name": "Aprons", "price": "3"}),
    ]


def test_a_2_kb_workbook_with_a_cell_in_the_last_row_is_refused_at_once():
    # Declared A1:XFD1048576 with one cell at the grid's end: read naively, a million rows of
    # 16,384 cells each.
    crafted = rewritten(
        workbook(GOOD),
        declaring("A1:XFD1048576", append='<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row>'),
    )
    assert len(crafted) < 6_000

    assert "more than 500,000 rows after the header" in refusal(crafted)


def test_rows_past_the_limit_are_refused_in_either_format(settings):
    settings.UPLOAD_MAX_ROWS = 3
    rows = [GOOD[0]] + [[f"S-{n}", "x", 1] for n in range(4)]
    csv = "\n".join(",".join(str(v) for v in r) for r in rows).encode()

    assert "more than 3 rows after the header" in refusal(workbook(rows))
    assert "more than 3 rows after the header" in refusal(csv, "file.csv")
    assert len(read(workbook(rows[:4]))) == len(read(b"sku\nA\nB\nC\n", "file.csv")) == 3


def test_a_value_past_the_last_column_is_refused_in_either_format():
    far = rewritten(
        workbook(GOOD), declaring("A1:C3", append='<row r="4"><c r="ET4" t="n"><v>7</v></c></row>')
    )
    assert "Row 4 has a value in column 150; files have at most 100 columns" in refusal(far)
    wide_csv = b"sku,name\n" + b"A," + b"," * 120 + b"x\n"
    assert "Row 2 has values beyond column 100" in refusal(wide_csv, "file.csv")


def test_empty_formatted_cells_past_the_last_column_are_ignored():
    styled = rewritten(workbook(GOOD), declaring("A1:XFD3", append='<row r="4"><c r="XFD4" s="0"/></row>'))
    assert [number for number, _ in read(styled)] == [2, 3]


def test_a_row_of_millions_of_cells_is_refused_before_it_is_built():
    cells = "".join(f'<c r="A{n}"/>' for n in range(20_000)).replace('r="A', 'r="B')
    crafted = rewritten(workbook(GOOD), declaring("A1:C3", append=f'<row r="4">{cells}</row>'))
    assert "more than 16,384 cells" in refusal(crafted)


def test_a_workbook_that_expands_a_thousandfold_is_refused_unopened():
    content = workbook(GOOD)
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("xl/media/padding.bin", b"\0" * 20_000_000)
    assert len(out.getvalue()) < 100_000

    assert "expand to more than 100 times" in refusal(out.getvalue())


def test_a_truncated_workbook_is_a_clear_file_error():
    content = workbook(GOOD)
    for cut in (len(content) // 2, len(content) - 30):
        assert "damaged or incomplete" in refusal(content[:cut])


def test_a_workbook_whose_sheet_is_corrupt_is_a_clear_file_error():
    content = workbook(GOOD)
    archive = zipfile.ZipFile(io.BytesIO(content))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    # Flip bytes inside the sheet's compressed data: a CRC or inflate error while reading rows.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    damaged = bytearray(content)
    for offset in range(start, start + 40):
        damaged[offset] ^= 0xFF
    assert "damaged or incomplete" in refusal(bytes(damaged))


def test_a_sheet_that_is_not_xml_is_a_clear_file_error():
    broken = rewritten(workbook(GOOD), lambda xml: xml.replace(b"</sheetData>", b"<row><c></sheetData>"))
    assert "damaged or incomplete" in refusal(broken)


def test_a_csv_line_of_megabytes_is_refused_without_holding_it():
    assert "longer than 1,048,576 characters" in refusal(b"sku,name\n" + b"x" * 3_000_000, "file.csv")


def test_a_nul_character_is_a_problem_of_its_row_and_column():
    rows = read(b"sku,name,price\nA-1,Glo\x00ves,4\nA-2,Aprons,3\n", "file.csv")

    (first_number, first), (second_number, second) = rows
    assert first["name"] == "Gloves"  # taken out, so that the other checks see the text
    assert [(p.row, p.column) for p in row_problems(first_number, first)] == [(2, "name")]
    assert "NUL character" in row_problems(first_number, first)[0].message
    assert row_problems(second_number, second) == []


def test_a_workbook_too_large_once_unpacked_is_refused(settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024  # unpacked, at most 20 MB
    rows = [GOOD[0]] + [
        [f"S-{n}", "Nitrile examination gloves, medium, box of 100", 4.2] for n in range(60_000)
    ]
    content = workbook(rows)
    assert len(content) < settings.UPLOAD_MAX_BYTES
    settings.UPLOAD_MAX_BYTES = 100 * 1024  # unpacked, at most 2 MB
    assert "too large to read once unpacked (more than 2 MB)" in refusal(content)
