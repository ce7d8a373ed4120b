"""Exports of the model inventory: one function yields the header and the rows of the
filtered, scoped model list, so the HTML export (CSV, XLSX) and the API produce the same table.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.utils import timezone
from openpyxl import Workbook

from . import selectors
from .choices import ModelStatus
from .filtersets import AIModelFilterSet

MODEL_EXPORT_HEADER = (
    "Name",
    "Type",
    "Vendor",
    "Vendor product",
    "Business unit",
    "Owner",
    "Hosting",
    "Effective tier",
    "Latest version",
    "Latest version status",
    "Versions",
    "Initiatives",
    "Consumer business units",
    "Shared model",
    "Review overdue",
    "Drifting",
    "Registered",
)
# Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_CHUNK_SIZE = 500


def filtered_models(*, user, params, request=None):
    """The scoped model list with the AIModelFilterSet applied to ``params`` (a QueryDict);
    invalid filters give no rows, as on the list page."""
    queryset = selectors.model_list(user=user)
    filterset = AIModelFilterSet(params or None, queryset=queryset, request=request)
    if not filterset.is_bound:
        return queryset
    return filterset.qs if filterset.is_valid() else queryset.none()


def model_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per filtered model (every row, not one page), as plain
    values: text, numbers, booleans as Yes/No, dates."""
    yield MODEL_EXPORT_HEADER
    models = filtered_models(user=user, params=params, request=request)
    for model in models.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield (
            model.name,
            model.get_model_type_display(),
            model.vendor.name if model.vendor else "",
            model.vendor_product.name if model.vendor_product else "",
            model.business_unit.name,
            model.owner.get_full_name() or model.owner.username,
            model.get_hosting_display(),
            model.effective_tier,
            model.latest_version or "",
            ModelStatus(model.latest_status).label if model.latest_status else "",
            model.version_count,
            model.initiative_count,
            model.consumer_unit_count,
            _yes_no(model.consumer_unit_count >= selectors.SHARED_MODEL_UNIT_COUNT),
            _yes_no(model.has_overdue_review),
            _yes_no(model.is_drifting),
            timezone.localdate(model.created_at),
        )


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


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


def _xlsx_cell(value):
    # Numbers and dates stay typed; text is defused (openpyxl stores "=…" as a formula).
    if value is None or isinstance(value, bool):
        return safe_text(value)
    if isinstance(value, int | float | datetime.date):
        return value
    return safe_text(value)


def xlsx_file(rows: Iterable[tuple], *, title: str = "Models"):
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
