"""Service layer of the bulk inventory import (issue 8): the upload page, the API, the Celery
task and ``manage.py import_inventory`` all call these. See ``governance.bulk_import``.

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
  keyed ``"mapping"``), optionally saves it as a named ``ImportPreset``, builds the plan
  without writing anything, stores it in ``job.preview`` and sets status PREVIEWED. Returns
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
- ``import_file(*, actor, filename, content, preset, dry_run, options=None) -> dict``: the
  CLI and API path: create + preview, then (unless ``dry_run``) run synchronously; returns
  ``{"job": id, "preview": ..., "result": ... or None}``.
"""
