"""Exports shared by every list: CSV streamed row by row, XLSX written row by row to a
write-only workbook in a spooled temporary file, with text cells a spreadsheet will not run
as formulas. Each list supplies its header and rows (plain values) from the same scoped,
filtered selector as its page, iterating its queryset in chunks (``EXPORT_CHUNK_SIZE``)."""

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

# Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# Rows fetched per database round trip when an export iterates its queryset.
EXPORT_CHUNK_SIZE = 500
# An XLSX export stays in memory up to this size, then spills to a temporary file.
XLSX_SPOOL_BYTES = 5 * 1024 * 1024
EXTENSIONS = ("csv", "xlsx")


def _local(value):
    """Aware datetimes in the site's time zone, without tzinfo (spreadsheets have none)."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.make_naive(value)
    return value


def safe_text(value) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    value = _local(value)
    text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _csv_cell(value) -> str:
    # Numbers are ours, not user text: a negative amount stays a number ("-3.5").
    return str(value) if _is_number(value) else safe_text(value)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer streaming."""

    def write(self, value):
        return value


def csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_csv_cell(value) for value in row])


def csv_response(rows: Iterable[tuple], *, filename: str) -> StreamingHttpResponse:
    """``rows`` (header first) streamed as a CSV attachment: nothing is read from the
    database before the response starts, and one line at a time after."""
    response = StreamingHttpResponse(csv_lines(rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_cell(value):
    # Numbers and dates stay typed; text is defused (openpyxl stores "=…" as a formula).
    if value is None or isinstance(value, bool):
        return safe_text(value)
    if _is_number(value) or isinstance(value, datetime.date):
        return _local(value)
    return safe_text(value)


def xlsx_file(rows: Iterable[tuple], *, title: str):
    """Write ``rows`` to a write-only workbook (rows go to the sheet's temporary file as they
    come, so memory stays flat) saved to a spooled temporary file, returned rewound."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])  # Excel's limit for a sheet name
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    output = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # noqa: SIM115 — the response closes it
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


def stored_file_response(stored, *, filename: str, content_type: str, missing: str):
    """A stored private file (a ``FieldFile``) streamed as an attachment; 404 with
    ``missing`` when the row outlived its file. Callers check who may read it first."""
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404(missing) from None
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


def dated_filename(stem: str, extension: str) -> str:
    """``stem-YYYY-MM-DD.extension`` (today in the site's time zone)."""
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.{extension}"


def export_response(rows: Iterable[tuple], *, extension: str, stem: str, title: str):
    """``rows`` (header first) as a CSV or XLSX attachment named ``stem-<today>.<ext>``;
    404 for any other extension. Lists route ``<name>.<extension>`` here."""
    if extension == "csv":
        return csv_response(rows, filename=dated_filename(stem, "csv"))
    if extension == "xlsx":
        return xlsx_response(rows, filename=dated_filename(stem, "xlsx"), title=title)
    raise Http404("Exports are CSV or XLSX.")


# --- One declaration per list (issue 19) --------------------------------------------------


def list_page(export: str):
    """Mark a view as a list page whose filtered rows export at the URL names
    ``<export>_csv`` and ``<export>_xlsx`` (the URL-conf test walks these marks)."""

    def mark(view):
        view.list_export = export
        return view

    return mark


def export_links(request, export: str, **url_kwargs) -> dict:
    """The list page's export links, carrying its current filters (not the page number)."""
    from django.urls import reverse

    params = request.GET.copy()
    params.pop("page", None)
    query = f"?{params.urlencode()}" if params else ""
    return {
        "export_csv_url": reverse(f"{export}_csv", kwargs=url_kwargs or None) + query,
        "export_xlsx_url": reverse(f"{export}_xlsx", kwargs=url_kwargs or None) + query,
    }


@dataclass(frozen=True)
class ListExport:
    """A list page's CSV/XLSX export declared once: its columns — (header, value of a row) —
    over the page's own scoped queryset (``queryset(request)``) and FilterSet, so the export
    holds exactly the rows the page would list with the same filters, every page of them.
    ``permitted(user)`` is the page's own access check (403 otherwise)."""

    stem: str
    title: str
    columns: tuple
    queryset: Callable
    filterset_class: type | None = None
    permitted: Callable | None = None
    # The register's custom fields (``core.customfields``) follow as one column each.
    custom_fields_entity: str = ""

    def header(self) -> tuple:
        return tuple(header for header, _ in self.columns)

    def rows(self, request, rows) -> Iterator[tuple]:
        """The header, then ``rows`` (the page's scoped rows, already fetched) filtered."""
        from core.customfields import export_columns
        from core.filtersets import apply_filters

        columns = self.columns
        if self.custom_fields_entity:
            columns = (*columns, *export_columns(self.custom_fields_entity, user=request.user))
        yield tuple(header for header, _ in columns)
        if self.filterset_class is not None:
            _, rows = apply_filters(
                request.GET, queryset=rows, filterset_class=self.filterset_class, request=request
            )
        if hasattr(rows, "iterator"):
            rows = rows.iterator(chunk_size=EXPORT_CHUNK_SIZE)
        for row in rows:
            yield tuple(value(row) for _, value in columns)

    def response(self, request, extension: str):
        if self.permitted is not None and not self.permitted(request.user):
            raise PermissionDenied("You cannot export this list.")
        # The scoped rows are asked for now, not inside the streamed body: a selector's
        # permission check (PermissionDenied) must answer 403 before any byte is sent.
        source = self.queryset(request)
        return export_response(
            self.rows(request, source), extension=extension, stem=self.stem, title=self.title
        )

    def urlpatterns(self, route: str, name: str) -> list:
        """``<route>export.csv`` and ``.xlsx`` named ``<name>_csv`` and ``<name>_xlsx``."""
        from django.contrib.auth.decorators import login_required
        from django.urls import path
        from django.views.decorators.http import require_GET

        @login_required
        @require_GET
        def export(request, extension, **url_kwargs):
            return self.response(request, extension)

        export.__name__ = f"{name}_export"
        return [
            path(f"{route}export.{ext}", export, {"extension": ext}, name=f"{name}_{ext}")
            for ext in EXTENSIONS
        ]


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def yes_no(value) -> str:
    return "Yes" if value else "No"
