"""core.exports: the CSV and XLSX writers every list export uses (streamed, typed cells,
text a spreadsheet will not run as a formula)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from openpyxl import load_workbook

from core.exports import (
    XLSX_CONTENT_TYPE,
    csv_response,
    dated_filename,
    export_response,
    safe_text,
    xlsx_response,
)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (datetime.date(2024, 10, 1), "2024-10-01"),
    ],
)
def test_safe_text_defuses_formula_prefixes_only(value, expected):
    assert safe_text(value) == expected


def test_csv_is_streamed_lazily_one_line_per_row():
    taken = []

    def rows():
        yield ("Name", "Amount")
        for n in range(3):
            taken.append(n)
            yield (f"row {n}", n)

    response = csv_response(rows(), filename="x.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert taken == []  # nothing is produced before the response is iterated
    first = next(iter(response.streaming_content))
    assert first == b"Name,Amount\r\n" and taken == []
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


def test_csv_defuses_text_but_keeps_numbers_and_dates():
    response = csv_response(
        [
            ("Text", "Amount", "Day", "Flag", "Empty"),
            ('=HYPERLINK("http://x")', Decimal("-3.50"), datetime.date(2024, 1, 2), True, None),
            ("-1", -1, 2.5, False, ""),
        ],
        filename="x.csv",
    )
    rows = csv_rows(response)
    assert rows[1] == ['\'=HYPERLINK("http://x")', "-3.50", "2024-01-02", "True", ""]
    # "-1" as text is user input and is defused; -1 as a number is ours and is kept.
    assert rows[2] == ["'-1", "-1", "2.5", "False", ""]


def test_csv_datetimes_are_in_the_site_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    timezone.activate("Europe/Paris")
    try:
        moment = datetime.datetime(2024, 1, 2, 12, 0, tzinfo=datetime.UTC)
        rows = csv_rows(csv_response([("When",), (moment,)], filename="x.csv"))
    finally:
        timezone.deactivate()
    assert rows[1] == ["2024-01-02T13:00:00"]


def test_xlsx_keeps_types_and_defuses_formulas():
    moment = timezone.make_aware(datetime.datetime(2024, 3, 4, 5, 6))
    response = xlsx_response(
        [
            ("Text", "Count", "Amount", "Day", "When", "Flag", "Empty"),
            ("=1+2", 3, Decimal("-3.5"), datetime.date(2024, 1, 2), moment, True, None),
        ],
        filename="x.xlsx",
        title="A title longer than thirty-one characters",
    )
    assert isinstance(response, FileResponse)  # a StreamingHttpResponse, read in blocks
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert 'filename="x.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    assert sheet.title == "A title longer than thirty-one c"[:31]
    header, row = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Text"
    text, count, amount, day, when, flag, empty = row
    assert text == "'=1+2" and sheet["A2"].data_type == "s"  # a string, not a formula
    assert count == 3 and amount == -3.5
    assert day == datetime.datetime(2024, 1, 2)  # openpyxl reads dates back as datetimes
    assert when == timezone.make_naive(moment)
    assert flag == "True" and empty is None


def test_xlsx_streams_from_a_file_with_every_row():
    header = ("N", "Label")
    rows = [header, *((n, f"row {n}") for n in range(2000))]
    read = xlsx_rows(xlsx_response(iter(rows), filename="x.xlsx", title="Rows"))
    assert len(read) == 2001
    assert read[0] == header and read[-1] == (1999, "row 1999")


def test_export_response_picks_the_writer_and_names_the_file():
    today = timezone.localdate()
    assert dated_filename("gpu-pools", "csv") == f"gpu-pools-{today:%Y-%m-%d}.csv"
    as_csv = export_response([("A",)], extension="csv", stem="things", title="Things")
    assert as_csv["Content-Type"].startswith("text/csv")
    assert f'filename="things-{today:%Y-%m-%d}.csv"' in as_csv["Content-Disposition"]
    as_xlsx = export_response([("A",), (1,)], extension="xlsx", stem="things", title="Things")
    assert as_xlsx["Content-Type"] == XLSX_CONTENT_TYPE
    assert xlsx_rows(as_xlsx) == [("A",), (1,)]
    with pytest.raises(Http404):
        export_response([("A",)], extension="pdf", stem="things", title="Things")
