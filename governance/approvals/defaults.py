"""The default approval policies, as data: one per tier × gate, with ordered steps, SLAs and
escalation roles. ``policies.policies_install_defaults`` installs them."""

# Default approval policies: (gate, tier) → steps of (name, role, approvals, SLA hours,
# escalation role, fast path). Tier 4 policies block every gate.
COE = "coe_reviewer"

RISK = "risk_officer"

EXEC = "executive"

PLATFORM = "platform_engineer"

LEAD = "coe_admin"


def _step(name, role, approvals=1, sla_hours=72, escalation_role=LEAD, fast_path=False):
    return {
        "name": name,
        "role": role,
        "approvals": approvals,
        "sla_hours": sla_hours,
        "escalation_role": escalation_role,
        "fast_path": fast_path,
    }


DEFAULT_POLICIES = {
    ("intake", 1): [_step("CoE triage", COE, sla_hours=48, fast_path=True)],
    ("intake", 2): [_step("CoE triage", COE, sla_hours=48)],
    ("intake", 3): [_step("CoE triage", COE, sla_hours=48)],
    ("pilot", 1): [_step("CoE review", COE, fast_path=True)],
    ("pilot", 2): [_step("CoE review", COE)],
    ("pilot", 3): [_step("CoE review", COE), _step("Risk review", RISK, escalation_role=EXEC)],
    ("production", 1): [_step("CoE review", COE, fast_path=True)],
    ("production", 2): [
        _step("CoE review", COE),
        _step("Risk review", RISK, escalation_role=EXEC),
    ],
    ("production", 3): [
        _step("CoE review", COE),
        _step("Risk review", RISK, escalation_role=EXEC),
        _step("Executive sign-off", EXEC, sla_hours=120, escalation_role=EXEC),
    ],
    ("scale", 1): [_step("CoE review", COE, fast_path=True)],
    ("scale", 2): [_step("CoE review", COE)],
    ("scale", 3): [
        _step("CoE review", COE),
        _step("Executive sign-off", EXEC, sla_hours=120, escalation_role=EXEC),
    ],
    ("gpu_request", 1): [_step("Platform capacity", PLATFORM, sla_hours=24, fast_path=True)],
    ("gpu_request", 2): [_step("Platform capacity", PLATFORM, sla_hours=24)],
    ("gpu_request", 3): [
        _step("Platform capacity", PLATFORM, sla_hours=24),
        _step("CoE review", COE),
    ],
    ("model_release", 1): [_step("CoE review", COE, fast_path=True)],
    ("model_release", 2): [
        _step("CoE review", COE),
        _step("Risk review", RISK, escalation_role=EXEC),
    ],
    ("model_release", 3): [
        _step("CoE review", COE),
        _step("Risk review", RISK, escalation_role=EXEC),
    ],
    # Governance content (issue 19): a CoE admin authors a questionnaire version, a risk
    # officer approves its publication (the submitter never decides).
    ("questionnaire", 1): [_step("Risk review", RISK, sla_hours=120, escalation_role=EXEC)],
}
