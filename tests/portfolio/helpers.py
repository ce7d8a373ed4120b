"""Stand-ins for what higher apps hand to portfolio services, so portfolio tests need not go
through the governance engine."""

from types import SimpleNamespace

from portfolio.initiatives.choices import GATED_STAGES


def approved_gate_request(initiative, to_stage, **fields):
    """An approved governance request (duck-typed) of ``to_stage``'s gate for ``initiative``
    itself, as ``initiative_change_stage(via_gate=...)`` expects; ``fields`` override."""
    return SimpleNamespace(
        **{
            "pk": None,
            "status": "approved",
            "initiative_id": initiative.pk,
            "gate": GATED_STAGES.get(to_stage, ""),
            "subject_type": "",
            "subject_id": "",
            **fields,
        }
    )


def approved_scale_request(deployment, **fields):
    """An approved ``scale`` request (duck-typed) about ``deployment``, as
    ``deployment_set_status(via_gate=...)`` expects; ``fields`` override."""
    return SimpleNamespace(
        **{
            "pk": None,
            "status": "approved",
            "initiative_id": deployment.initiative_id,
            "gate": "scale",
            "subject_type": "portfolio.deployment",
            "subject_id": str(deployment.pk),
            **fields,
        }
    )
