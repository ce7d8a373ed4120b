"""CSV, XLSX or XLS bytes → a :class:`Table` of headers and numbered rows, however messy the
file.

- CSV: UTF-16 with a byte-order mark (Excel's "Unicode text"), UTF-8 (a byte-order mark is
  stripped), else Windows-1252 (so curly quotes and dashes of spreadsheets saved on Windows
  survive); the delimiter (``,``, ``;`` or tab) is sniffed; quoted cells may span several lines.
- XLSX: the first sheet, read with openpyxl in read-only mode; dates become ISO dates.
- XLS (the legacy binary workbook OMB still publishes): the first sheet, read with xlrd
  (the kept reader of that format); date cells become ISO dates.
- Every cell is trimmed, inner line breaks and runs of whitespace become one space; fully
  empty rows are dropped; each row keeps the file's line number (for CSV the physical line
  where the record starts, for XLSX the sheet row number) so errors can point at it.
- The apostrophe spreadsheet exports put before text starting with ``=``, ``+``, ``-``, ``@``
  (formula-injection protection, ``core.exports.safe_text``) is taken off again, so an
  exported ``'-100`` or ``'=SUM`` note reads back as written.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core.exports import FORMULA_PREFIXES

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound document
DELIMITERS = ",;\t"


@dataclass
class Table:
    headers: list[str]
    # (line number in the file, cells padded or cut to the headers' length)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def column(self, index: int) -> list[str]:
        return [cells[index] for _, cells in self.rows]


def clean_cell(value) -> str:
    """A cell as text: trimmed, line breaks and repeated whitespace folded into one space."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    if text[:1] == "'" and text[1:2] and text[1] in FORMULA_PREFIXES:
        return text[1:]
    return text


def decode(content: bytes) -> str:
    """UTF-16 with a BOM, UTF-8 (BOM stripped) or, failing that, Windows-1252 (then Latin-1
    for its 5 holes)."""
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _delimiter(text: str) -> str:
    sample = text[:20000]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first_line = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first_line.count)


def _records_csv(content: bytes):
    text = decode(content)
    if "\x00" in text:
        raise ValidationError({"file": "This is not a text (CSV), XLSX or XLS file."})
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    previous_end = 0
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            yield start, record
    except csv.Error as error:
        raise ValidationError(
            {"file": f"The CSV file cannot be read near line {reader.line_num}: {error}."}
        ) from None


def _records_xlsx(content: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ValidationError({"file": "The XLSX file cannot be opened."}) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _records_xls(content: bytes):
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=content, on_demand=True)
    except Exception:
        raise ValidationError({"file": "The XLS file cannot be opened."}) from None
    try:
        sheet = book.sheet_by_index(0)
        for index in range(sheet.nrows):
            row = []
            for cell in sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                        row.append(cell.value)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    row.append(bool(cell.value))
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    row.append("")
                else:
                    row.append(cell.value)
            yield index + 1, row
    finally:
        book.release_resources()


def is_xls(filename: str, content: bytes) -> bool:
    return content.startswith(XLS_MAGIC)


def is_xlsx(filename: str, content: bytes) -> bool:
    return content.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm"))


def read_table(filename: str, content: bytes) -> Table:
    """The file's table; ``ValidationError({"file": ...})`` when it is unreadable or empty."""
    if not content or not content.strip():
        raise ValidationError({"file": "The file is empty."})
    if is_xls(filename, content):
        records = _records_xls(content)
    elif is_xlsx(filename, content):
        records = _records_xlsx(content)
    else:
        records = _records_csv(content)
    headers = None
    rows: list[tuple[int, list[str]]] = []
    for line, record in records:
        cells = [clean_cell(value) for value in record]
        if not any(cells):
            continue
        if headers is None:
            while cells and not cells[-1]:
                cells.pop()
            headers = []
            for index, cell in enumerate(cells, start=1):
                header, number = cell or f"Column {index}", 2
                while header in headers:  # a repeated header gets "(2)", "(3)"…
                    header, number = f"{cell} ({number})", number + 1
                headers.append(header)
            continue
        cells = (cells + [""] * len(headers))[: len(headers)]
        if any(cells):
            rows.append((line, cells))
    if headers is None:
        raise ValidationError({"file": "The file is empty."})
    if not rows:
        raise ValidationError({"file": "The file has a header row but no data rows."})
    return Table(headers=headers, rows=rows)
