"""Demo approval history: gate requests decided over the last months, a few in flight and
some overdue, one model release in flight beside them, so the approvals queue and the
dashboard's cycle times have something to show.

Everything goes through the approval engine (real decisions, stage changes and audit events);
only the clock is moved afterwards: each request's submission, decisions and due time are set
back to when they would have happened, as the history of an organisation that has used Keel
for a while. Idempotent: does nothing when any approval request exists.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import BusinessUnit
from governance.approvals import delegation
from governance.approvals import services as engine
from governance.approvals.choices import Outcome, RequestStatus
from governance.approvals.models import (
    ApprovalRequest,
    Decision,
    DelegateEligibility,
    Delegation,
    DelegationRule,
)
from governance.risk.choices import Gate, ResultStatus
from governance.risk.controls import VENDOR_CONTROL, control_waive, gate_blockers
from governance.risk.models import Control, RiskAssessment
from inventory.registry.choices import ModelStatus
from inventory.registry.models import ModelVersion
from inventory.registry.services import highest_tier_initiative
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative

SEED = 20261202
# The demo logins that decide (their roles cover every default policy's steps).
DECIDERS = ("reviewer", "coeadmin", "risk", "exec", "admin")
DECIDED = 18  # requests decided in the past
IN_FLIGHT = 8  # left pending, of which OVERDUE are past their step's due time
OVERDUE = 3
NEXT_GATE = {Stage.PROPOSED: "pilot", Stage.PILOT: "production"}
WAIVER_REASON = "Evidence reviewed by the steering committee and filed offline (demo data)."


def seed_demo_approvals() -> dict:
    if ApprovalRequest.objects.exists():
        return {}
    rng = random.Random(SEED)
    users = get_user_model().objects.in_bulk(DECIDERS, field_name="username")
    deciders = [users[name] for name in DECIDERS if name in users]
    assessed = RiskAssessment.objects.filter(is_current=True).values("initiative")
    candidates = list(
        Initiative.objects.filter(
            stage__in=NEXT_GATE, pk__in=assessed, external_id__startswith="demo-"
        )
        .exclude(external_id__startswith="demo-scale-")
        .select_related("accountable_owner", "business_unit")
        .order_by("reference")
    )
    rng.shuffle(candidates)
    counts = {"approval_requests": 0, "approval_decisions": 0}
    now = timezone.now()
    for initiative in candidates:
        if counts["approval_requests"] >= DECIDED + IN_FLIGHT:
            break
        gate = NEXT_GATE[initiative.stage]
        try:
            _waive_blockers(initiative, gate, users.get("risk"))
            request = engine.request_submit(
                actor=initiative.accountable_owner, initiative=initiative, gate=gate
            )
        except (ValidationError, PermissionDenied):
            continue  # a control still blocks the gate, or the owner may not submit
        counts["approval_requests"] += 1
        if request.status != RequestStatus.PENDING:
            _backdate(request, now - timedelta(days=rng.randint(10, 150)), rng)
            continue  # fast-tracked on submission
        decided = counts["approval_requests"] <= DECIDED
        if decided:
            counts["approval_decisions"] += _decide(request, deciders, rng)
            _backdate(request, now - timedelta(days=rng.randint(10, 170)), rng)
        else:
            overdue = counts["approval_requests"] - DECIDED <= OVERDUE
            hours = rng.randint(4, 60) if overdue else -rng.randint(12, 60)
            _make_due(request, now - timedelta(hours=hours))
    if _model_release_in_flight(users.get("risk")):
        counts["approval_requests"] += 1
    return counts


def _model_release_in_flight(risk_officer) -> bool:
    """One validated model version asking to go to production (the ``model_release`` gate),
    left pending beside the initiative gates. Its owner submits; blockers are waived as for
    the initiative gates."""
    versions = (
        ModelVersion.objects.filter(
            status=ModelStatus.APPROVED, model__initiatives__external_id__startswith="demo-"
        )
        .select_related("model__owner")
        .distinct()
        .order_by("model__name", "pk")
    )
    for version in versions:
        initiative = highest_tier_initiative(version.model)
        if initiative is None:
            continue
        # Its team completed the model card before asking (MOD-01).
        ModelVersion.objects.filter(pk=version.pk, intended_use="").update(
            intended_use=f"Serve “{initiative.title}” as validated."
        )
        ModelVersion.objects.filter(pk=version.pk, limitations="").update(
            limitations="Validated on the last 12 months of data; English only."
        )
        ModelVersion.objects.filter(pk=version.pk, human_oversight="").update(
            human_oversight="A person reviews every output before it is acted on."
        )
        try:
            _waive_blockers(initiative, Gate.MODEL_RELEASE, risk_officer)
            request = engine.model_release_submit(actor=version.model.owner, version=version)
        except (ValidationError, PermissionDenied):
            continue
        if request.status == RequestStatus.PENDING:
            _make_due(request, timezone.now() + timedelta(hours=36))
        return True
    return False


def _waive_blockers(initiative, gate, risk_officer) -> None:
    """The demo has no evidence files: the risk officer waives the gate's controls that await
    evidence for 90 days. A failing automated control is left failing, so that initiative
    stays unsubmitted."""
    blockers = gate_blockers(initiative, gate)
    # A vendor's due diligence still open (VEN-01) is waived like missing evidence.
    failing = [b for b in blockers if b.status == ResultStatus.FAILING and b.code != VENDOR_CONTROL]
    if risk_officer is None or failing:
        return
    expires_on = timezone.localdate() + timedelta(days=90)
    for blocker in blockers:
        control_waive(
            actor=risk_officer,
            initiative=initiative,
            control=Control.objects.get(code=blocker.code),
            expires_on=expires_on,
            reason=WAIVER_REASON,
        )


def _decide(request, deciders, rng) -> int:
    """Approve step after step (one in six rejected at some step) until decided."""
    decisions = 0
    reject = rng.random() < 1 / 6
    for _ in range(12):
        request.refresh_from_db()
        if request.status != RequestStatus.PENDING:
            break
        decider = next((user for user in deciders if engine.can_decide(user, request)), None)
        if decider is None:
            break
        outcome = Outcome.REJECT if reject and request.current_step > 0 else Outcome.APPROVE
        if reject and len(request.steps) == 1:
            outcome = Outcome.REJECT
        comment = "Benefits unproven for the data it needs." if outcome == Outcome.REJECT else ""
        engine.request_decide(actor=decider, request=request, outcome=outcome, comment=comment)
        decisions += 1
    return decisions


def _backdate(request, submitted_at, rng) -> None:
    """Move a decided request's history back so it was submitted at ``submitted_at`` and
    decided after a realistic wait (its decisions spread over the days between)."""
    request.refresh_from_db()
    wait = timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 20))
    ApprovalRequest.objects.filter(pk=request.pk).update(
        submitted_at=submitted_at,
        decided_at=submitted_at + wait if request.decided_at else None,
    )
    decisions = list(Decision.objects.filter(request=request).order_by("created_at", "pk"))
    for index, decision in enumerate(decisions, start=1):
        decision.created_at = submitted_at + wait * index / len(decisions)
    Decision.objects.bulk_update(decisions, ["created_at"])


def _make_due(request, due_at) -> None:
    """Set a pending request's step due time to ``due_at`` (past: overdue) and its
    submission 72 hours (the default SLA) before."""
    ApprovalRequest.objects.filter(pk=request.pk).update(
        submitted_at=due_at - timedelta(hours=72), step_due_at=due_at
    )


# Holiday cover in force: the CoE reviewer ``reviewer`` is on leave and a CoE analyst who
# holds no approver role decides for them, which the rule "any member of the CoE" allows;
# the second CoE reviewer ``reviewer2`` still decides in their own name.
DELEGATOR, DELEGATE = "reviewer", "noah.fraser"
LEAVE_STARTED, LEAVE_DAYS = 3, 14


def seed_demo_delegation() -> dict:
    """The delegation rule (set by ``admin``) and one delegation running today; does nothing
    when any delegation exists."""
    if Delegation.objects.exists():
        return {}
    users = get_user_model().objects.in_bulk(("admin", DELEGATOR, DELEGATE), field_name="username")
    if len(users) < 3:
        return {}
    created = {}
    if not DelegationRule.objects.exists():
        delegation.delegation_rule_set(
            actor=users["admin"],
            eligible=DelegateEligibility.COE,
            coe_business_unit=BusinessUnit.objects.filter(code="COE").first(),
        )
    today = timezone.localdate()
    starts_on = today - timedelta(days=LEAVE_STARTED)
    delegation.delegation_create(
        actor=users[DELEGATOR],
        delegate=users[DELEGATE],
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=LEAVE_DAYS),
        reason="Annual leave (demo)",
    )
    created["delegations"] = 1
    return created
