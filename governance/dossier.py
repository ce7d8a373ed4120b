"""An initiative's governance dossier: everything an auditor asks for, in one read.

Contract:

- ``dossier_data(*, user, initiative) -> dict``: the context of
  ``templates/governance/dossier_pdf.html``, read with the user's scope (the caller got the
  initiative through ``initiative_get``): owners (accountable owner, technical lead,
  executive sponsor), purpose and outputs, data and AI facts, the current risk assessment's
  answers (question text → answer text) with the computed tier, its rationale and any
  override (tier, justification, who, when), the assessment history, controls with status,
  evidence file names and reviewer, approval requests with every decision and escalation,
  linked models with versions and status, GPU allocations with their cost
  (``inventory.utilisation.initiative_gpu_summary``), deployments, stage history, and the
  initiative's audit history (``core.audit`` events about it, oldest first). A fixed number
  of queries whatever the number of rows.
- ``render_dossier_html(*, user, initiative) -> str``: the rendered template.
"""
