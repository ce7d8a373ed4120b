"""CSV and XLSX exports of the governance registers: the initiative register (Keel's own
interchange format or the US federal AI use-case inventory), the approvals queue and the
risk register. Every export holds every row the list page would show for the same filters
(not one page), read through the page's own scoped selector and FilterSet, iterated in
chunks and written by ``core.exports`` (CSV streamed, XLSX from a spooled temporary file).
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.choices import Role
from core.exports import EXPORT_CHUNK_SIZE, export_response
from core.filtersets import apply_filters
from portfolio.filtersets import InitiativeFilterSet
from portfolio.selectors import initiative_list

from . import approval_selectors, selectors
from .approval_filtersets import ApprovalQueueFilterSet
from .approval_views import SCOPES
from .bulk_import import export_rows, presets
from .filtersets import RiskRegisterFilterSet

# --- The initiative register ---------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFormat:
    stem: str  # the file name before the date
    title: str  # the XLSX sheet name
    header: str  # names of the export_rows functions (looked up when called)
    rows: str


INITIATIVE_FORMATS = {
    presets.KEEL: RegisterFormat("initiatives", "Initiatives", "keel_header", "keel_rows"),
    presets.US_FEDERAL: RegisterFormat(
        "ai-use-case-inventory", "AI use case inventory", "federal_header", "federal_rows"
    ),
}


def initiative_format(params) -> RegisterFormat:
    """The format ``?format=`` names (``keel`` when absent); 400 for any other value."""
    name = params.get("format") or presets.KEEL
    if name not in INITIATIVE_FORMATS:
        raise BadRequest(f"Unknown export format {name!r}: use {' or '.join(INITIATIVE_FORMATS)}.")
    return INITIATIVE_FORMATS[name]


def initiative_export_rows(*, user, params, register: RegisterFormat, request=None):
    """The header, then the rows of ``governance.bulk_import.export_rows`` in ``register``'s
    format, for the initiative list (``portfolio.selectors.initiative_list``) as filtered
    by ``InitiativeFilterSet`` on ``params``."""
    _, initiatives = apply_filters(
        params,
        queryset=initiative_list(user=user),
        filterset_class=InitiativeFilterSet,
        request=request,
    )
    yield getattr(export_rows, register.header)()
    yield from getattr(export_rows, register.rows)(initiatives)


@login_required
@require_GET
def initiative_export(request, extension):
    """The initiative register as CSV or XLSX, ``?format=keel`` (default: Keel's own format,
    which the importer reads back) or ``?format=us-federal-2024`` (the OMB 2024 columns),
    with the initiative list's filters."""
    register = initiative_format(request.GET)
    rows = initiative_export_rows(
        user=request.user, params=request.GET, register=register, request=request
    )
    return export_response(rows, extension=extension, stem=register.stem, title=register.title)


# --- The approvals queue -------------------------------------------------------------------

APPROVAL_EXPORT_HEADER = (
    "Initiative",
    "Initiative title",
    "Business unit",
    "Gate",
    "Tier",
    "Status",
    "Current step",
    "Current step role",
    "Step due",
    "Overdue",
    "Escalation level",
    "Submitted by",
    "Submitted at",
    "Decided at",
    "Decisions",
)


def queue_scope(params) -> str:
    """The queue tab ``?scope=`` names, as on the page (its first tab when unknown)."""
    scope = params.get("scope")
    return scope if scope in dict(SCOPES) else SCOPES[0][0]


def _role_label(value) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value or ""


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def approval_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per request of the queue tab and filters in ``params``."""
    yield APPROVAL_EXPORT_HEADER
    _, approvals = apply_filters(
        params,
        queryset=approval_selectors.request_queue(user=user, scope=queue_scope(params)),
        filterset_class=ApprovalQueueFilterSet,
        request=request,
    )
    now = timezone.now()
    for approval in approvals.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        initiative = approval.initiative
        step = approval.step if approval.status == "pending" else None
        yield (
            initiative.reference,
            initiative.title,
            initiative.business_unit.name,
            approval.get_gate_display(),
            approval.tier,
            approval.get_status_display(),
            step.get("name", "") if step else "",
            _role_label(step.get("role")) if step else "",
            approval.step_due_at,
            "Yes" if approval.is_overdue(now) else "No",
            approval.escalation_level,
            _person(approval.submitted_by),
            approval.submitted_at,
            approval.decided_at,
            approval.decision_count,
        )


@login_required
@require_GET
def approval_queue_export(request, extension):
    """Every request of the approvals queue tab (``?scope=``) and filters, CSV or XLSX."""
    rows = approval_export_rows(user=request.user, params=request.GET, request=request)
    return export_response(rows, extension=extension, stem="approvals", title="Approvals")


# --- The risk register ---------------------------------------------------------------------

RISK_REGISTER_HEADER = (
    "Reference",
    "Title",
    "Business unit",
    "Stage",
    "Computed tier",
    "Override tier",
    "Effective tier",
    "Assessed on",
    "Required controls satisfied",
    "Required controls",
    "Required controls failing",
)


def risk_register_rows(user):
    """The risk register as its page lists it (the counts GROUP BY, which drops the model's
    default ordering: ordered explicitly)."""
    return selectors.risk_register(user=user).order_by("reference")


def risk_register_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per initiative of the filtered risk register."""
    yield RISK_REGISTER_HEADER
    _, initiatives = apply_filters(
        params,
        queryset=risk_register_rows(user),
        filterset_class=RiskRegisterFilterSet,
        request=request,
    )
    for initiative in initiatives.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        assessed = initiative.assessed_at
        yield (
            initiative.reference,
            initiative.title,
            initiative.business_unit.name,
            initiative.get_stage_display(),
            initiative.computed_tier,
            initiative.override_tier,
            initiative.effective_tier,
            timezone.localdate(assessed) if assessed else None,
            initiative.controls_satisfied,
            initiative.controls_total,
            initiative.controls_failing,
        )


@login_required
@require_GET
def risk_register_export(request, extension):
    """Every filtered row of the risk register (not just one page), CSV or XLSX."""
    rows = risk_register_export_rows(user=request.user, params=request.GET, request=request)
    return export_response(rows, extension=extension, stem="risk-register", title="Risk register")


def risk_register_csv(request):
    """The CSV export under its original name (``governance:risk_register_csv``)."""
    return risk_register_export(request, "csv")
