"""Exports shared by every list: CSV streamed row by row, XLSX written to a temporary file,
with text cells a spreadsheet will not run as formulas. Each list supplies its header and
rows (plain values) from the same scoped, filtered selector as its page."""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook

# Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file-like object whose write returns the line, for csv.writer streaming."""

    def write(self, value):
        return value


def csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_text(value) for value in row])


def csv_response(rows: Iterable[tuple], *, filename: str) -> StreamingHttpResponse:
    """``rows`` (header first) streamed as a CSV attachment."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_cell(value):
    # Numbers and dates stay typed; text is defused (openpyxl stores "=…" as a formula).
    if value is None or isinstance(value, bool):
        return safe_text(value)
    if isinstance(value, int | float | datetime.date):
        return value
    return safe_text(value)


def xlsx_file(rows: Iterable[tuple], *, title: str):
    """Write ``rows`` to a write-only workbook in a temporary file (rows go to disk as they
    come, so memory stays flat) and return the file, rewound, for a streamed response."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    output = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes it when done
    workbook.save(output)
    output.seek(0)
    return output


def xlsx_response(rows: Iterable[tuple], *, filename: str, title: str) -> FileResponse:
    """``rows`` (header first) as an XLSX attachment, streamed from a temporary file."""
    return FileResponse(
        xlsx_file(rows, title=title),
        as_attachment=True,
        filename=filename,
        content_type=XLSX_CONTENT_TYPE,
    )
