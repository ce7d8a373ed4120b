"""Generated PDFs: the board pack and governance dossiers, built in the background.

Contract (services; views, the task and the ``board_pack`` command stay thin):

- ``board_pack_request(*, actor, filters: DashboardFilters) -> ReportFile``: a QUEUED row
  (``kind=board_pack``, the filters stored, ``filters_label`` in words, ``expires_at`` =
  now + ``REPORT_RETENTION_DAYS``) and ``build_report_task`` queued on commit. Anyone who
  may open the dashboard may ask (``dashboard_views.can_view_dashboard``); the filters were
  validated by ``dashboard_filters`` for this actor.
- ``dossier_request(*, actor, initiative) -> ReportFile``: the same for one initiative's
  governance dossier (``kind=dossier``); the actor must be able to see the initiative
  (``portfolio.selectors.initiative_get``).
- ``report_build(report_id) -> ReportFile``: the task's body. Claims a QUEUED row (compare
  and set to RUNNING; a redelivered task finds it claimed and does nothing), renders the PDF
  as ``created_by`` (their scope, re-checked: a user who lost access gets FAILED with the
  reason), updating ``progress`` / ``progress_label`` as it goes (figures, charts, render),
  saves the file to private storage, then READY with ``size_bytes``, ``page_count`` and
  ``finished_at``. Any error: FAILED with ``error``, no file.
- ``render_board_pack(*, user, filters) -> bytes`` / ``render_dossier(*, user,
  initiative) -> bytes``: the PDF bytes (also used by ``manage.py board_pack``).
- ``report_list(*, user) -> QuerySet[ReportFile]``: the user's own reports, newest first.
- ``report_get(*, user, pk) -> ReportFile``: one of the user's own reports, else 404.
- ``reports_purge_expired(*, now=None) -> int``: delete the files of reports past
  ``expires_at`` and mark them EXPIRED (rows stay, so the list says what was there);
  run daily by beat (``purge_expired_reports_task``).
"""
