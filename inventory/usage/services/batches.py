"""The one GPU ingest engine (issue 7, items 4–5): the management commands, the API and the
UI upload all call :func:`ingest_file`.

Steps: permission (platform engineers and CoE admins: usage and cost data are the platform
team's); SHA-256 of the bytes — a file already imported for the same kind returns its batch
unchanged (``already_imported = True``) and writes nothing; decode (UTF-8, BOM dropped); the
pure parser of the kind (``inventory.usage.parsers``), whose ``ParseError`` lists every bad
line and is re-raised before anything is written; then one transaction creates the
``IngestBatch``, writes the rows (``samples`` and ``slurm`` for usage, ``costs`` for FOCUS),
recomputes the touched ``UsageDaily`` rows (``rollup``) or, through the costs-imported hooks,
the open chargeback months the costs fall in (FOCUS; a closed month stays frozen and is named
in the summary) and audits ``gpu_ingest.imported``. Any error in that transaction leaves the
database as it was.

Summary counts (``IngestBatch.summary``) are documented in ``samples`` (usage) and ``costs``
(FOCUS), modules of this package.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.audit import record_event
from core.permissions import can_manage_inventory, reads_whole_organisation
from inventory.usage.choices import IngestKind, IngestStatus
from inventory.usage.models import IngestBatch
from inventory.usage.parsers import (
    ParseError,
    parse_focus_csv,
    parse_opencost_allocation,
    parse_pods,
    parse_prometheus_text,
    parse_query_range_json,
    parse_sacct,
    parse_usage_csv,
)
from inventory.usage.services import pods as pod_ingest
from inventory.usage.services import samples as usage_ingest
from inventory.usage.services import slurm

MAX_UPLOAD_BYTES = 50_000_000  # 50 MB, for the UI and API uploads
USAGE_KINDS = (
    IngestKind.DCGM_TEXT,
    IngestKind.PROMETHEUS_JSON,
    IngestKind.SLURM_SACCT,
    IngestKind.USAGE_CSV,
    IngestKind.K8S_PODS,
    IngestKind.OPENCOST,
)
POD_KINDS = (IngestKind.K8S_PODS, IngestKind.OPENCOST)


def can_ingest(user) -> bool:
    """Usage and cost files are the platform team's: platform engineers, CoE admins and
    administrators (the inventory keepers)."""
    return can_manage_inventory(user)


AUTO = "auto"  # the kind an upload form or API call gives to mean "detect it"


def ingest_upload(
    *, actor, upload, kind: str = AUTO, scraped_at=None, time_origin=None, observed_at=None
) -> IngestBatch:
    """``ingest_file`` for an uploaded file (the upload page and the API): reads it, detects
    the kind when ``kind`` is AUTO, and passes the scrape time of an untimestamped dcgm
    text scrape."""
    content = upload.read()
    if kind == AUTO:
        kind = detect_kind(upload.name, content)
    given = {"scraped_at": scraped_at, "time_origin": time_origin, "observed_at": observed_at}
    options = {name: value.astimezone(dt.UTC) for name, value in given.items() if value}
    return ingest_file(
        actor=actor, kind=kind, filename=upload.name, content=content, options=options
    )


def detect_kind(filename: str, content: bytes) -> str:
    """Guess a file's kind from its name and first line: JSON with ``"code"`` and ``"data"``
    but no ``resultType`` → OpenCost allocation; a JSON list or ``"pods"`` → Kubernetes pods;
    other JSON → Prometheus query_range; ``#``/``DCGM_`` lines → dcgm-exporter text; a
    ``|``-separated header with a job id → sacct; a CSV header with ``BilledCost`` → FOCUS;
    one with ``gpu_milli`` or ``scheduled_time`` → Kubernetes pods; any other CSV → usage
    CSV."""
    name = (filename or "").lower()
    head = content[:4096].decode("utf-8-sig", errors="replace").lstrip()
    first = head.splitlines()[0] if head else ""
    if head.startswith("["):
        return IngestKind.K8S_PODS
    if name.endswith(".json") or head.startswith("{"):
        if '"resultType"' not in head and '"code"' in head and '"data"' in head:
            return IngestKind.OPENCOST
        if '"pods"' in head or '"items"' in head:
            return IngestKind.K8S_PODS
        return IngestKind.PROMETHEUS_JSON
    if first.startswith("#") or first.startswith("DCGM_"):
        return IngestKind.DCGM_TEXT
    if "|" in first and "jobid" in first.lower():
        return IngestKind.SLURM_SACCT
    if "billedcost" in first.lower():
        return IngestKind.FOCUS
    if {"gpu_milli", "scheduled_time"} & {column.strip().lower() for column in first.split(",")}:
        return IngestKind.K8S_PODS
    return IngestKind.USAGE_CSV


def _scraped_at(options: dict) -> dt.datetime:
    value = options.get("scraped_at")
    if value is None:
        return timezone.now().replace(microsecond=0)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                {"scraped_at": f"{value!r} is not an ISO 8601 date-time."}
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _moment(options: dict, name: str) -> dt.datetime | None:
    """The aware date-time option ``name`` (ISO 8601 text or a datetime; naive = UTC)."""
    value = options.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({name: f"{value!r} is not an ISO 8601 date-time."}) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _timezone(options: dict):
    name = options.get("slurm_timezone") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"slurm_timezone": f"Unknown time zone {name!r}."}) from None


def parse(kind: str, text: str, options: dict) -> list:
    """The pure parser of ``kind`` on ``text``; raises ParseError."""
    if kind == IngestKind.DCGM_TEXT:
        return parse_prometheus_text(text, scraped_at=_scraped_at(options))
    if kind == IngestKind.PROMETHEUS_JSON:
        return parse_query_range_json(text)
    if kind == IngestKind.SLURM_SACCT:
        return parse_sacct(text, tz=_timezone(options))
    if kind == IngestKind.USAGE_CSV:
        return parse_usage_csv(text)
    if kind == IngestKind.K8S_PODS:
        return parse_pods(
            text,
            time_origin=_moment(options, "time_origin"),
            observed_at=_moment(options, "observed_at"),
        )
    if kind == IngestKind.OPENCOST:
        return parse_opencost_allocation(text)
    return parse_focus_csv(text)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ParseError([(line, f"not UTF-8 text (byte {exc.start + 1})")]) from None


def already_imported(kind: str, sha256: str) -> IngestBatch | None:
    batch = (
        IngestBatch.objects.select_related("uploaded_by")
        .filter(kind=kind, sha256=sha256, status=IngestStatus.IMPORTED)
        .first()
    )
    if batch is not None:
        batch.already_imported = True
    return batch


# Called inside the ingest transaction with the months a FOCUS file touched; each returns figures
# to add to the batch summary. FinOps registers its chargeback refresh here (inventory/hooks.py),
# so usage never imports the context above it.
_COSTS_IMPORTED_HOOKS: list = []


def register_costs_imported_hook(hook) -> None:
    """``hook(*, months) -> dict`` runs after a FOCUS file's cost lines are written."""
    if hook not in _COSTS_IMPORTED_HOOKS:
        _COSTS_IMPORTED_HOOKS.append(hook)


def _write(*, batch: IngestBatch, kind: str, records: list) -> dict:
    if kind == IngestKind.FOCUS:
        from inventory.usage.services.costs import import_focus_lines  # noqa: PLC0415 (written alongside)

        summary = import_focus_lines(batch=batch, lines=records)
        months = [dt.date.fromisoformat(month) for month in summary.get("months", [])]
        for hook in _COSTS_IMPORTED_HOOKS:
            summary = {**summary, **hook(months=months)}
        return summary
    if kind == IngestKind.SLURM_SACCT:
        return slurm.import_slurm_jobs(batch=batch, jobs=records)
    if kind in POD_KINDS:
        return pod_ingest.import_pods(batch=batch, pods=records)
    return usage_ingest.import_samples(batch=batch, kind=kind, records=records)


def _rows_written(kind: str, summary: dict, records: list) -> int:
    if kind == IngestKind.SLURM_SACCT:
        return summary.get("jobs_new", 0) + summary.get("jobs_updated", 0)
    if kind in POD_KINDS:
        return summary.get("pods_new", 0) + summary.get("pods_updated", 0)
    if kind == IngestKind.FOCUS:
        for name in ("rows_written", "records_written", "records", "lines"):
            if isinstance(summary.get(name), int):
                return summary[name]
        return len(records)
    return summary.get("samples_written", 0)


def ingest_file(
    *, actor, kind: str, filename: str, content: bytes, options: dict | None = None
) -> IngestBatch:
    """Import one usage or cost file; see the module docstring. Returns the new batch, or the
    earlier batch of the same file with ``already_imported = True``. Raises PermissionDenied,
    ValidationError (unknown kind or option) or ParseError (every bad line; nothing written).
    """
    if not can_ingest(actor):
        raise PermissionDenied("Only platform engineers and CoE admins import usage and costs.")
    if kind not in IngestKind.values:
        raise ValidationError({"kind": f"Unknown file kind {kind!r}."})
    options = dict(options or {})
    digest = hashlib.sha256(content).hexdigest()
    existing = already_imported(kind, digest)
    if existing is not None:
        return existing
    records = parse(kind, _decode(content), options)
    try:
        with transaction.atomic():
            batch = IngestBatch.objects.create(
                kind=kind,
                filename=(filename or "upload")[:255],
                sha256=digest,
                size_bytes=len(content),
                status=IngestStatus.IMPORTED,
                rows_read=len(records),
                uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            summary = _write(batch=batch, kind=kind, records=records)
            # JSON-safe (dates, Decimals) for the JSON field and the audit payload.
            summary = json.loads(json.dumps(summary, default=str))
            batch.summary = summary
            batch.rows_written = _rows_written(kind, summary, records)
            batch.save(update_fields=["summary", "rows_written"])
            record_event(
                actor=actor,
                action="gpu_ingest.imported",
                target=batch,
                after={
                    "kind": kind,
                    "filename": batch.filename,
                    "sha256": digest,
                    "rows_read": batch.rows_read,
                    "rows_written": batch.rows_written,
                    "summary": summary,
                },
            )
    except IntegrityError:
        # The same file imported concurrently: the other import won.
        existing = already_imported(kind, digest)
        if existing is not None:
            return existing
        raise
    batch.already_imported = False
    return batch


def can_view_batches(user) -> bool:
    """The import history: the platform team and the organisation-wide readers."""
    return can_ingest(user) or reads_whole_organisation(user)


def batch_list(*, user) -> QuerySet[IngestBatch]:
    """Import batches the user may see, newest first, with their uploader (one query a page)."""
    if not can_view_batches(user):
        return IngestBatch.objects.none()
    return IngestBatch.objects.select_related("uploaded_by").order_by("-created_at", "-id")


def batch_get(*, user, pk) -> IngestBatch:
    return get_object_or_404(batch_list(user=user), pk=pk)
