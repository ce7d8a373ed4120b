"""Service layer of the bulk inventory import (issue 8): the upload page, the API, the Celery
task and ``manage.py import_inventory`` all call these. See ``governance.imports``.

CONTRACT (written first so the UI, API and engine can be built side by side; every function
below keeps this signature and meaning):

- ``target_fields() -> list[dict]``: the Keel fields a column can map to, in display order:
  ``{"name", "label", "required": bool, "help"}``.
- ``import_job_create(*, actor, filename, content: bytes, preset="keel") -> ImportJob``:
  reads the file (``ValidationError({"file": ...})`` for an unreadable or empty one),
  stores it with its SHA-256, ``total_rows`` and the mapping suggested from its headers by
  the preset; status UPLOADED. ``PermissionDenied`` for people who may not import.
- ``import_job_columns(job) -> list[dict]``: one per file column, in file order:
  ``{"header", "field" (the job's current mapping, "" = ignored), "samples": [up to 3
  values]}``.
- ``import_job_preview(*, actor, job, mapping: dict, options: dict,
  save_preset_as: str = "") -> dict``: the dry run. Validates the mapping (field errors
  keyed ``"mapping"``), optionally saves it as a named ``ImportPreset``, builds the plan,
  rehearses its writes in a savepoint that is rolled back (``"refused"``: the database's
  refusal, "" when none; a refused dry run cannot be confirmed), stores it in
  ``job.preview`` and sets status PREVIEWED. Returns
  ``{"counts": {"create", "update", "skip", "reject"}, "rows": [{"line", "action",
  "reference" or "title", "reason"}], "rejected": [{"line", "reason"}], "warnings":
  [{"line", "message"}]}`` (rejected rows always complete; other rows may be capped).
  Options: ``create_units`` (bool, default False), ``id_column`` (header of the stable
  external id column, default: the preset's rule).
- ``import_job_confirm(*, actor, job) -> ImportJob``: PREVIEWED → QUEUED and enqueues the
  Celery task after commit (``Conflict`` otherwise).
- ``import_job_run(job_id: int) -> ImportJob``: the task's body: RUNNING, then the whole
  import in one transaction (any error: FAILED with ``error``, nothing written), progress
  visible to other processes while it runs (``import_job_progress``), SUCCEEDED with
  ``result`` (counts and the created/updated initiative ids).
- ``import_job_progress(job) -> dict``: ``{"status", "processed", "total", "percent"}``
  read without waiting for the import's transaction.
- ``import_jobs_list(*, actor)`` (the history, newest first) and
  ``import_job_get(*, actor, pk)`` (404 outside the actor's scope).
- ``import_file(*, actor, filename, content, preset, dry_run, options=None, mapping=None,
  save_preset_as="") -> dict``: the CLI and API path: create + preview (``mapping`` laid
  over the suggested one), then (unless ``dry_run``) run synchronously; returns
  ``{"job": id, "preview": ..., "result": ... or None}``.
"""

import hashlib
import logging

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.http import Http404
from django.utils import timezone

from core.audit import record_event
from core.choices import Role
from core.exceptions import Conflict
from core.permissions import business_unit_ids, has_any_role, writes_whole_organisation
from core.scheduling import enqueue
from governance.imports import apply, engine
from governance.imports.choices import ImportStatus
from governance.imports.fields import BY_NAME, REQUIRED, FieldError, custom_targets, normalise
from governance.imports.fields import target_fields as _target_fields
from governance.imports.models import ImportJob, ImportPreset
from governance.imports.plan import CREATE, UPDATE, Plan
from governance.imports.presets import BUILT_IN, get_preset, suggest_mapping
from governance.imports.reader import read_table

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
PROGRESS_TIMEOUT = 24 * 3600
PREVIEW_ROWS_CAP = 500
OPTION_NAMES = ("create_units", "id_column")


# --- permissions ---------------------------------------------------------------------------


def can_import(actor) -> bool:
    """CoE admins and administrators (any unit) and BU leads (their own units)."""
    return writes_whole_organisation(actor) or bool(business_unit_ids(actor, {Role.BU_LEAD}))


def can_see_all_imports(actor) -> bool:
    return has_any_role(actor, {Role.COE_ADMIN, Role.ADMIN, Role.EXECUTIVE})


def _require_importer(actor) -> None:
    if not can_import(actor):
        raise PermissionDenied("Only CoE admins, administrators and BU leads can import.")


def _require_owner(actor, job: ImportJob) -> None:
    _require_importer(actor)
    if job.created_by_id != actor.pk and not writes_whole_organisation(actor):
        raise PermissionDenied("This is someone else's import.")


# --- the steps -----------------------------------------------------------------------------


def target_fields() -> list[dict]:
    return _target_fields()


def _table(job: ImportJob):
    return read_table(job.filename, bytes(job.content))


def import_job_create(*, actor, filename, content: bytes, preset="keel") -> ImportJob:
    _require_importer(actor)
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError({"file": "The file is larger than 20 MB."})
    chosen = get_preset(preset or "keel")
    table = read_table(filename, content)
    job = ImportJob(
        filename=(filename or "upload")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        content=content,
        preset=chosen.name,
        mapping=suggest_mapping(table.headers, chosen),
        options=dict(chosen.options),
        total_rows=len(table.rows),
        status=ImportStatus.UPLOADED,
        created_by=actor,
    )
    with transaction.atomic():
        job.save()
        record_event(
            actor=actor,
            action="import.uploaded",
            target=job,
            after={
                "filename": job.filename,
                "sha256": job.sha256,
                "preset": job.preset,
                "rows": job.total_rows,
            },
        )
    return job


def import_job_columns(job: ImportJob) -> list[dict]:
    table = _table(job)
    columns = []
    for index, header in enumerate(table.headers):
        samples = [cells[index] for _, cells in table.rows if cells[index]][:3]
        columns.append({"header": header, "field": job.mapping.get(header, ""), "samples": samples})
    return columns


def _clean_mapping(mapping: dict, headers) -> dict:
    errors = []
    known = set(headers)
    cleaned = {header: "" for header in headers}
    used: dict[str, str] = {}
    custom = custom_targets()
    for header, name in (mapping or {}).items():
        name = (name or "").strip()
        if header not in known:
            errors.append(f"The file has no column '{header}'.")
            continue
        if name and name not in BY_NAME and name not in custom:
            errors.append(f"'{name}' is not a Keel field (column '{header}').")
            continue
        if name and name in used:
            label = BY_NAME[name].label if name in BY_NAME else custom[name].label
            errors.append(f"{label} is mapped twice ('{used[name]}' and '{header}').")
            continue
        if name:
            used[name] = header
        cleaned[header] = name
    for name in REQUIRED:
        if name not in used:
            errors.append(f"Map a column to {BY_NAME[name].label}.")
    if errors:
        raise ValidationError({"mapping": errors})
    return cleaned


def _clean_options(options: dict, headers) -> dict:
    options = dict(options or {})
    cleaned = {"create_units": bool(options.get("create_units"))}
    id_column = (options.get("id_column") or "").strip()
    if id_column:
        if id_column not in headers:
            raise ValidationError({"id_column": f"The file has no column '{id_column}'."})
        cleaned["id_column"] = id_column
    values = _clean_value_maps(options.get("values"))
    if values:
        cleaned["values"] = values
    return cleaned


def _clean_value_maps(value_maps) -> dict:
    """``{field: {file value: Keel value}}`` → the same with the file values normalised; each
    Keel value must be one the field reads (so a typo fails here, not on every row)."""
    if not value_maps:
        return {}
    if not isinstance(value_maps, dict):
        raise ValidationError({"values": "Value maps are {field: {file value: Keel value}}."})
    errors, cleaned = [], {}
    for name, table in value_maps.items():
        spec = BY_NAME.get(name)
        if spec is None:
            errors.append(f"'{name}' is not a Keel field (value maps).")
            continue
        if not isinstance(table, dict):
            errors.append(f"The value map of {name} is not {{file value: Keel value}}.")
            continue
        cleaned[name] = {}
        for raw, value in table.items():
            value = "" if value is None else str(value).strip()
            if value:
                try:
                    spec.parse(value)
                except FieldError as error:
                    errors.append(f"{spec.label}: '{raw}' → {error}.")
                    continue
            cleaned[name][normalise(str(raw))] = value
    if errors:
        raise ValidationError({"values": errors})
    return cleaned


def _save_preset(*, actor, name: str, base: str, mapping: dict, options: dict) -> ImportPreset:
    name = name.strip()[:100]
    if name in BUILT_IN:
        raise ValidationError({"save_preset_as": f"'{name}' is a built-in preset's name."})
    existing = ImportPreset.objects.select_for_update().filter(name=name).first()
    owner_id = existing.created_by_id if existing is not None else None
    if owner_id not in (None, actor.pk) and not writes_whole_organisation(actor):
        raise ValidationError({"save_preset_as": f"Another person's preset is named '{name}'."})
    values = {"base": base, "mapping": mapping, "options": options}
    if existing is None:
        preset = ImportPreset.objects.create(name=name, created_by=actor, **values)
        record_event(actor=actor, action="import_preset.created", target=preset, after=values)
        return preset
    before = {"base": existing.base, "mapping": existing.mapping, "options": existing.options}
    for key, value in values.items():
        setattr(existing, key, value)
    existing.save()
    record_event(
        actor=actor, action="import_preset.updated", target=existing, before=before, after=values
    )
    return existing


def _plan(job: ImportJob, actor, table=None) -> Plan:
    table = table or _table(job)
    preset = get_preset(job.preset)
    return engine.build_plan(
        table,
        job.mapping,
        job.options,
        actor,
        preset_base=preset.base,
        filename=job.filename,
    )


class _Rehearsed(Exception):
    """Raised to roll back the dry run's rehearsal of the writes."""


def _rehearse(plan: Plan, actor) -> str:
    """Apply ``plan`` inside a savepoint and roll it back, so the dry run meets every refusal
    the database would give the real run (a constraint, a length, a trigger). Returns "" when
    the database accepts every write, else the refusal as a file error."""
    if not any(row.action in (CREATE, UPDATE) for row in plan.rows):
        return ""
    try:
        with transaction.atomic():
            apply.apply_plan(plan, actor)
            raise _Rehearsed
    except _Rehearsed:
        return ""
    except DatabaseError as error:
        return f"The database would refuse this import, so nothing would be written: {error}"


def import_job_preview(
    *, actor, job: ImportJob, mapping: dict, options: dict, save_preset_as: str = ""
) -> dict:
    _require_owner(actor, job)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        raise Conflict(f"This import is {job.get_status_display().lower()}: it cannot change.")
    table = _table(job)
    cleaned = _clean_mapping(mapping, table.headers)
    cleaned_options = _clean_options(options, table.headers)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
            raise Conflict("This import has been confirmed meanwhile.")
        if save_preset_as and save_preset_as.strip():
            _save_preset(
                actor=actor,
                name=save_preset_as,
                base=get_preset(job.preset).base,
                mapping=cleaned,
                options=cleaned_options,
            )
        locked.mapping, locked.options = cleaned, cleaned_options
        plan = _plan(locked, actor, table)
        report = plan.report(cap=PREVIEW_ROWS_CAP)
        # after the report: the rehearsal gives the plan's new rows keys it then rolls back
        report["refused"] = _rehearse(plan, actor)
        locked.preview = report
        locked.total_rows = len(table.rows)
        locked.status = ImportStatus.PREVIEWED
        locked.save(update_fields=["mapping", "options", "preview", "total_rows", "status"])
    job.mapping, job.options, job.preview = locked.mapping, locked.options, locked.preview
    job.status, job.total_rows = locked.status, locked.total_rows
    return report


def import_job_confirm(*, actor, job: ImportJob) -> ImportJob:
    _require_owner(actor, job)
    with transaction.atomic():
        refused = (job.preview or {}).get("refused")
        if refused:
            raise Conflict(refused)
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
            status=ImportStatus.QUEUED
        )
        if updated != 1:
            raise Conflict("Only an import whose dry run is done can be confirmed, once.")
        job.refresh_from_db()
        record_event(
            actor=actor,
            action="import.confirmed",
            target=job,
            after={"counts": job.preview.get("counts", {})},
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    result = enqueue("governance.tasks.run_import_job_task", job_id)
    task_id = getattr(result, "id", "") or ""
    ImportJob.objects.filter(pk=job_id).update(task_id=task_id[:64])


def progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:progress"


def _store_progress(job_id: int, processed: int, total: int) -> None:
    cache.set(progress_key(job_id), {"processed": processed, "total": total}, PROGRESS_TIMEOUT)


def import_job_run(job_id: int) -> ImportJob:
    """The task's body. A job that is not queued (a redelivered task) is left as it is."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), error=""
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    actor = job.created_by
    _store_progress(job.pk, 0, job.total_rows)
    try:
        if not actor.is_active or not can_import(actor):
            raise PermissionDenied(f"{actor.get_username()} may no longer import.")
        with transaction.atomic():
            plan = _plan(job, actor)

            def progress(done, total):
                _store_progress(job.pk, done, total)

            result = apply.apply_plan(plan, actor, progress, job=job)
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.SUCCEEDED,
                processed_rows=len(plan.rows),
                result=result,
                finished_at=timezone.now(),
            )
    except Exception as error:  # any failure: nothing was written, the job says why
        if not isinstance(error, DatabaseError | ValidationError | PermissionDenied):
            logger.exception("Import job %s failed", job.pk)
        message = _describe(error)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            error=message,
            processed_rows=0,
            finished_at=timezone.now(),
        )
        cache.delete(progress_key(job.pk))
        job.refresh_from_db()
        return job
    cache.delete(progress_key(job.pk))
    job.refresh_from_db()
    return job


def _describe(error) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    if isinstance(error, DatabaseError):
        return f"The database refused the import, nothing was written: {error}"
    return str(error) or error.__class__.__name__


def import_job_progress(job: ImportJob) -> dict:
    row = ImportJob.objects.filter(pk=job.pk).values("status", "total_rows", "processed_rows")
    row = row.first() or {"status": job.status, "total_rows": job.total_rows, "processed_rows": 0}
    status, total = row["status"], row["total_rows"]
    processed = row["processed_rows"]
    if status == ImportStatus.RUNNING:
        live = cache.get(progress_key(job.pk)) or {}
        written_total = live.get("total") or 0
        # rows to write (creates + updates) scaled to the file's rows
        processed = round(total * live.get("processed", 0) / written_total) if written_total else 0
    elif status == ImportStatus.SUCCEEDED:
        processed = total
    percent = (
        100
        if status == ImportStatus.SUCCEEDED
        else (min(100, round(100 * processed / total)) if total else 0)
    )
    return {"status": status, "processed": processed, "total": total, "percent": percent}


def import_jobs_list(*, actor):
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to see imports.")
    jobs = ImportJob.objects.select_related("created_by").defer("content")
    if not can_see_all_imports(actor):
        jobs = jobs.filter(created_by=actor)
    return jobs.order_by("-created_at", "-id")


def import_job_get(*, actor, pk) -> ImportJob:
    job = import_jobs_list(actor=actor).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import.")
    return ImportJob.objects.select_related("created_by").get(pk=job.pk)


def import_file(
    *,
    actor,
    filename,
    content,
    preset,
    dry_run,
    options=None,
    mapping=None,
    save_preset_as: str = "",
) -> dict:
    """The CLI and API path: upload, dry run with the suggested mapping (``mapping`` laid
    over it, header → field; ``options["values"]`` laid over the preset's value maps), then
    (unless ``dry_run``) the import itself, synchronously. ``save_preset_as`` saves the
    mapping and options as a preset the upload page and the API offer too."""
    job = import_job_create(actor=actor, filename=filename, content=content, preset=preset)
    options = dict(options or {})
    if options.get("values") or job.options.get("values"):
        options["values"] = {**job.options.get("values", {}), **options.get("values", {})}
    preview = import_job_preview(
        actor=actor,
        job=job,
        mapping={**job.mapping, **(mapping or {})},
        options={**job.options, **options},
        save_preset_as=save_preset_as,
    )
    result = None
    if preview.get("refused"):
        result = {"error": preview["refused"]} if not dry_run else None
    elif not dry_run:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
                status=ImportStatus.QUEUED
            )
            record_event(
                actor=actor,
                action="import.confirmed",
                target=job,
                after={"counts": preview["counts"]},
            )
        job = import_job_run(job.pk)
        result = {"error": job.error} if job.status == ImportStatus.FAILED else job.result
    return {"job": job.pk, "preview": preview, "result": result}
