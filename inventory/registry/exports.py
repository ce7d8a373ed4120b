"""Exports of the model inventory: one function yields the header and the rows of the
filtered, scoped model list, so the HTML export (CSV, XLSX, written by ``core.exports``) and
the API produce the same table.
"""

from collections.abc import Iterator

from django.utils import timezone

from core.customfields import export_columns
from core.filtersets import apply_filters
from inventory.registry import selectors
from inventory.registry.choices import ModelStatus
from inventory.registry.filtersets import AIModelFilterSet

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
EXPORT_CHUNK_SIZE = 500


def filtered_models(*, user, params, request=None):
    """The scoped model list with the AIModelFilterSet applied to ``params`` (a QueryDict);
    invalid filters give no rows, as on the list page."""
    _, rows = apply_filters(
        params,
        queryset=selectors.model_list(user=user),
        filterset_class=AIModelFilterSet,
        request=request,
    )
    return rows


def model_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per filtered model (every row, not one page), as plain
    values: text, numbers, booleans as Yes/No, dates."""
    custom = export_columns("ai_model", user=user)
    yield (*MODEL_EXPORT_HEADER, *(header for header, _ in custom))
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
            *(value(model) for _, value in custom),
        )


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"
