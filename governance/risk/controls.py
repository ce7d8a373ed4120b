"""Controls, evidence and waivers: which controls apply to an initiative, their automated
evaluation, evidence review, waivers, and the blockers a gate checks before a request."""

import mimetypes
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from core.audit import record_event
from core.customfields import missing_before
from core.scheduling import enqueue
from governance.risk.choices import (
    MIN_JUSTIFICATION_LENGTH,
    SATISFYING_STATUSES,
    Applicability,
    ControlKind,
    Gate,
    ResultStatus,
    Tier,
)
from governance.risk.models import (
    Control,
    ControlRequirement,
    ControlResult,
    RiskAssessment,
)
from governance.risk.permissions import (
    can_review_controls,
    can_submit_evidence,
    can_waive_controls,
)
from governance.risk.selectors import current_tier, reassessment_reasons
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative

ALLOWED_EVIDENCE_TYPES = {
    ".pdf": b"%PDF",
    ".png": b"\x89PNG",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".pptx": b"PK\x03\x04",
    ".txt": None,
    ".md": None,
    ".csv": None,
}


def validate_evidence_file(upload) -> None:
    """Refuse oversized files and types outside the allow-list (by extension and content)."""
    limit = settings.KEEL_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                "evidence_file": f"The file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}."
            }
        )
    extension = Path(upload.name).suffix.lower()
    if extension not in ALLOWED_EVIDENCE_TYPES:
        allowed = ", ".join(sorted(ALLOWED_EVIDENCE_TYPES))
        raise ValidationError(
            {
                "evidence_file": f"Files of type {extension or '(none)'} are not accepted; "
                f"use {allowed}."
            }
        )
    head = upload.read(2048)
    upload.seek(0)
    signature = ALLOWED_EVIDENCE_TYPES[extension]
    if signature is not None and not head.startswith(signature):
        raise ValidationError(
            {"evidence_file": f"The file's content does not look like a {extension} file."}
        )
    if signature is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                {"evidence_file": "Text evidence must be UTF-8 encoded text."}
            ) from None


def evidence_content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _answers_of(initiative: Initiative) -> dict:
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    return assessment.answers if assessment else {}


def control_applies(control: Control, initiative: Initiative, answers: dict, has_models: bool):
    rule = control.applies_when
    if rule == Applicability.PERSONAL_DATA:
        return (
            initiative.uses_pii
            or initiative.data_sensitivity
            in (
                "personal",
                "special_category",
            )
            or answers.get("data_sensitivity") in ("personal", "special_category")
        )
    if rule == Applicability.GENERATIVE:
        return initiative.ai_type in ("generative", "agentic") or answers.get("generative_ai") in (
            "internal",
            "customer_facing",
        )
    if rule == Applicability.THIRD_PARTY:
        return (
            initiative.sourcing in ("vendor", "both") or answers.get("third_party_model") == "yes"
        )
    if rule == Applicability.PEOPLE_FACING:
        affected = answers.get("affected_people") or []
        return (
            bool({"customers", "public"} & set(affected))
            or answers.get("generative_ai") == "customer_facing"
        )
    if rule == Applicability.HAS_MODELS:
        return has_models
    return True


# Codes Keel evaluates itself (``_evaluate_automated``); any other control is manual.
AUTOMATED_EVALUATORS = frozenset({"GOV-01", "RISK-01", "TIER-01", "MOD-01", "MON-02"})

# Automated controls whose facts live in a higher context (incidents' INC-01), registered in
# ``GovernanceConfig.ready()``: {code: evaluator(initiative, assessment) -> (status, detail)}.
CONTROL_EVALUATORS: dict = {}


def register_control_evaluator(code: str, evaluator) -> None:
    CONTROL_EVALUATORS[code] = evaluator


def has_automated_evaluator(code: str) -> bool:
    """Whether Keel can evaluate ``code`` itself (built in or registered by a context)."""
    return code in AUTOMATED_EVALUATORS or code in CONTROL_EVALUATORS


def _evaluate_automated(code: str, initiative: Initiative, assessment) -> tuple[str, str]:
    if code in CONTROL_EVALUATORS:
        return CONTROL_EVALUATORS[code](initiative, assessment)
    if code == "GOV-01":
        owner = initiative.accountable_owner
        if owner is not None and owner.is_active:
            return ResultStatus.PASSING, f"Accountable owner: {owner.get_username()}."
        return ResultStatus.FAILING, "No active accountable owner."
    if code == "RISK-01":
        reasons = reassessment_reasons(assessment, initiative)
        if reasons:
            return ResultStatus.FAILING, " ".join(reasons)
        return ResultStatus.PASSING, f"Assessed {assessment.completed_at:%d %b %Y}."
    if code == "TIER-01":
        tier = assessment.effective_tier if assessment else None
        if tier == Tier.UNACCEPTABLE:
            return ResultStatus.FAILING, "Tier 4: prohibited practice; no gate can pass."
        return ResultStatus.PASSING, "Not an unacceptable-risk use."
    if code == "MOD-01":
        from inventory.registry.services import model_cards_incomplete

        incomplete = model_cards_incomplete(initiative=initiative)
        if incomplete:
            return ResultStatus.FAILING, "Model card incomplete: " + "; ".join(incomplete)
        return ResultStatus.PASSING, "Every linked model has a complete model card."
    if code == "MON-02":
        from inventory.registry.selectors import drifting_versions

        drifting = drifting_versions(initiative=initiative)
        if drifting:
            return ResultStatus.FAILING, "Drifting in production: " + ", ".join(drifting)
        return ResultStatus.PASSING, "No model in production reports drift."
    return ResultStatus.PENDING, "No evaluator for this control."


# The vendor control: a manual control (evidence of the due diligence) that also reads the
# vendor register; a vendor serving the initiative without completed due diligence fails it.
VENDOR_CONTROL = "VEN-01"
VENDOR_FAILURE = "Vendor due diligence not complete: "


def vendors_without_due_diligence(initiative: Initiative) -> list[str]:
    """The vendors of the initiative's models whose due diligence is not approved (with or
    without conditions), as "name (status)"."""
    from inventory.registry.choices import DiligenceStatus
    from inventory.registry.models import Vendor

    done = (DiligenceStatus.APPROVED, DiligenceStatus.CONDITIONAL)
    vendors = (
        Vendor.objects.filter(models__initiatives=initiative)
        .exclude(due_diligence_status__in=done)
        .distinct()
        .order_by("name")
    )
    return [
        f"{vendor.name} ({vendor.get_due_diligence_status_display().lower()})" for vendor in vendors
    ]


def _evaluate_vendors(initiative: Initiative, result):
    """(status, detail) when the vendor register decides VEN-01, else None (the evidence
    stands). An unexpired waiver stands too; once the vendors are done, a result the register
    failed awaits the review of its evidence again."""
    if result is not None and result.status == ResultStatus.WAIVED:
        return None
    pending = vendors_without_due_diligence(initiative)
    if pending:
        return ResultStatus.FAILING, VENDOR_FAILURE + ", ".join(pending) + "."
    if (
        result is not None
        and result.status == ResultStatus.FAILING
        and result.detail.startswith(VENDOR_FAILURE)
    ):
        return ResultStatus.PENDING, ""
    return None


def _evaluations(initiative: Initiative, existing: dict):
    """For each active control: (control, stored result or None, fresh status, detail).

    The fresh status is None where the stored (manual, reviewed) status stands. Reads only.
    """
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    answers = assessment.answers if assessment else {}
    has_models = initiative.ai_models.exists()
    for control in Control.objects.filter(is_active=True):
        result = existing.get(control.pk)
        if not control_applies(control, initiative, answers, has_models):
            yield control, result, ResultStatus.NOT_APPLICABLE, control.get_applies_when_display()
        elif control.kind == ControlKind.AUTOMATED:
            yield control, result, *_evaluate_automated(control.code, initiative, assessment)
        elif control.code == VENDOR_CONTROL and (
            vendor_status := _evaluate_vendors(initiative, result)
        ):
            yield control, result, *vendor_status
        elif result is None or (
            result.status == ResultStatus.NOT_APPLICABLE and result.reviewer_id is None
        ):
            # No evidence yet, or it applied to nothing before and now needs evidence.
            yield control, result, ResultStatus.PENDING, ""
        else:
            yield control, result, None, result.detail


def controls_evaluate(*, initiative: Initiative) -> dict[str, str]:
    """Re-evaluate automated controls and the applicability of manual ones.

    Writes only results whose status or detail changed (each change audited) and returns
    {control code: status}. The initiative's row lock serialises concurrent evaluations.
    """
    now = timezone.now()
    statuses = {}
    with transaction.atomic():
        Initiative.objects.select_for_update().filter(pk=initiative.pk).first()
        existing = {
            result.control_id: result
            for result in ControlResult.objects.filter(initiative=initiative).select_for_update()
        }
        tier = current_tier(initiative)
        required = {
            requirement.control_id
            for requirement in required_controls(
                tier=tier, gates=compliance_gates(initiative.stage)
            )
        }
        for control, result, status, detail in _evaluations(initiative, existing):
            is_required = control.pk in required
            statuses[control.code] = status if status is not None else result.status
            if status is None:
                if result.is_required != is_required:
                    result.is_required = is_required
                    result.save(update_fields=["is_required", "updated_at"])
                continue
            unchanged = result is not None and (
                result.status,
                result.detail,
                result.is_required,
            ) == (status, detail, is_required)
            if unchanged:
                continue
            before = {"status": result.status} if result is not None else {}
            result = result or ControlResult(initiative=initiative, control=control)
            result.status, result.detail, result.evaluated_at = status, detail, now
            result.is_required = is_required
            result.save()
            if before.get("status") != status:
                record_event(
                    actor=None,
                    action="control.evaluated",
                    target=result,
                    before=before,
                    after={"status": status, "detail": detail},
                )
    return statuses


def control_evidence_submit(
    *,
    actor,
    initiative: Initiative,
    control: Control,
    evidence_file=None,
    evidence_link="",
    note="",
) -> ControlResult:
    """Attach evidence to a manual control; it then awaits review (status pending)."""
    if not can_submit_evidence(actor, initiative):
        raise PermissionDenied("You cannot add evidence to this initiative.")
    if control.kind != ControlKind.MANUAL:
        raise ValidationError("Automated controls are evaluated by Keel, not evidenced.")
    if evidence_file is None and not evidence_link:
        raise ValidationError({"evidence_file": "Upload a file or give a link."})
    if evidence_file is not None:
        validate_evidence_file(evidence_file)
    with transaction.atomic():
        result, _ = ControlResult.objects.select_for_update().get_or_create(
            initiative=initiative, control=control
        )
        before = {
            "status": result.status,
            "evidence": result.evidence_file.name or result.evidence_link,
        }
        if evidence_link:
            result.evidence_link = evidence_link
        result.status = ResultStatus.PENDING
        result.detail = note
        result.reviewer = None
        result.reviewed_at = None
        result.waiver_expires_on = None
        result.full_clean(exclude=["evidence_file"])
        if evidence_file is not None:
            result.evidence_file.save(evidence_file.name, evidence_file, save=False)
        result.save()
        record_event(
            actor=actor,
            action="control.evidence_submitted",
            target=result,
            before=before,
            after={
                "status": result.status,
                "evidence": result.evidence_file.name or result.evidence_link,
            },
            reason=note,
        )
    return result


def control_review(*, actor, result: ControlResult, status: str, note: str = "") -> ControlResult:
    """A reviewer marks a manual control passing or failing (never their own initiative's)."""
    if not can_review_controls(actor):
        raise PermissionDenied("Only CoE reviewers and risk officers review controls.")
    if status not in (ResultStatus.PASSING, ResultStatus.FAILING):
        raise ValidationError({"status": "Choose passing or failing."})
    initiative = result.initiative
    if actor.pk in (initiative.accountable_owner_id, initiative.technical_lead_id):
        raise PermissionDenied("You cannot review controls of an initiative you own or lead.")
    if status == ResultStatus.PASSING and not (result.evidence_file or result.evidence_link):
        raise ValidationError({"status": "A control cannot pass without evidence."})
    with transaction.atomic():
        locked = ControlResult.objects.select_for_update().get(pk=result.pk)
        before = {"status": locked.status}
        locked.status, locked.detail = status, note or locked.detail
        locked.reviewer, locked.reviewed_at = actor, timezone.now()
        locked.waiver_expires_on = None
        locked.save()
        record_event(
            actor=actor,
            action="control.reviewed",
            target=locked,
            before=before,
            after={"status": status},
            reason=note,
        )
    return locked


def control_waive(
    *, actor, initiative: Initiative, control: Control, expires_on, reason: str
) -> ControlResult:
    """Waive a control until ``expires_on`` with a written reason (risk officers, CoE admins)."""
    if not can_waive_controls(actor):
        raise PermissionDenied("Only risk officers and CoE admins can waive controls.")
    reason = (reason or "").strip()
    errors = {}
    if len(reason) < MIN_JUSTIFICATION_LENGTH:
        errors["reason"] = f"Write a reason of at least {MIN_JUSTIFICATION_LENGTH} characters."
    if expires_on is None or expires_on <= timezone.localdate():
        errors["expires_on"] = "A waiver needs an expiry date in the future."
    elif expires_on > timezone.localdate() + timedelta(days=366):
        errors["expires_on"] = "A waiver can last at most a year."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        result, _ = ControlResult.objects.select_for_update().get_or_create(
            initiative=initiative, control=control
        )
        before = {"status": result.status}
        result.status = ResultStatus.WAIVED
        result.waiver_expires_on = expires_on
        result.detail = reason
        result.reviewer, result.reviewed_at = actor, timezone.now()
        result.save()
        record_event(
            actor=actor,
            action="control.waived",
            target=result,
            before=before,
            after={"status": ResultStatus.WAIVED, "expires_on": expires_on},
            reason=reason,
        )
        controls_evaluate(initiative=initiative)
    return result


# The gate an initiative faces next, by stage.
NEXT_GATE = {
    Stage.DRAFT: Gate.INTAKE,
    Stage.PROPOSED: Gate.PILOT,
    Stage.PILOT: Gate.PRODUCTION,
    Stage.PRODUCTION: Gate.SCALE,
    Stage.SCALED: Gate.SCALE,
    Stage.PAUSED: Gate.PILOT,
}

GATE_ORDER = [Gate.INTAKE, Gate.PILOT, Gate.PRODUCTION, Gate.SCALE]


@dataclass(frozen=True)
class Blocker:
    code: str
    title: str
    status: str
    reason: str

    def __str__(self):
        return f"{self.code} {self.title}: {self.reason}"


def result_satisfies(result: ControlResult | None, today=None) -> bool:
    if result is None:
        return False
    if result.status == ResultStatus.WAIVED:
        return result.waiver_expires_on is not None and result.waiver_expires_on >= (
            today or timezone.localdate()
        )
    return result.status in SATISFYING_STATUSES


def required_controls(*, tier: int | None, gates) -> list[ControlRequirement]:
    """Requirements of ``gates`` that apply to ``tier`` (an unassessed initiative is treated
    as Tier 1, and the assessment control itself fails)."""
    return list(
        ControlRequirement.objects.filter(
            gate__in=list(gates), minimum_tier__lte=tier or Tier.MINIMAL, control__is_active=True
        ).select_related("control")
    )


def gate_blockers(initiative: Initiative, gate: str) -> list[Blocker]:
    """Every required control of ``gate`` that is not satisfied, with the reason.

    Automated controls and applicability are evaluated afresh in memory (nothing is written,
    so a GET may call this); manual controls use their stored, reviewed results.
    """
    tier = current_tier(initiative)
    required = {r.control_id for r in required_controls(tier=tier, gates=[gate])}
    existing = {
        result.control_id: result for result in ControlResult.objects.filter(initiative=initiative)
    }
    today = timezone.localdate()
    blockers = []
    for control, result, fresh, detail in _evaluations(initiative, existing):
        if control.pk not in required:
            continue
        status = fresh if fresh is not None else result.status
        if status in SATISFYING_STATUSES or (
            status == ResultStatus.WAIVED and result_satisfies(result, today)
        ):
            continue
        if status == ResultStatus.WAIVED:
            reason = f"Waiver expired on {result.waiver_expires_on:%d %b %Y}."
        elif status == ResultStatus.PENDING:
            reason = "Evidence missing or awaiting review."
        else:
            reason = detail or "Failing."
        blockers.append(Blocker(control.code, control.title, status, reason))
    return blockers + custom_field_blockers(initiative, gate)


# The stage each gate leads into: a custom field "required from <stage> on" blocks it.
GATE_STAGE = {
    Gate.INTAKE: Stage.PROPOSED,
    Gate.PILOT: Stage.PILOT,
    Gate.PRODUCTION: Stage.PRODUCTION,
    Gate.SCALE: Stage.SCALED,
}


def custom_field_blockers(initiative: Initiative, gate: str) -> list[Blocker]:
    """A blocker per custom field required from the gate's stage (or earlier) on that the
    initiative leaves empty, named ``CF-<name>`` with the field's label."""
    stage = GATE_STAGE.get(gate)
    if stage is None:
        return []
    return [
        Blocker(
            f"CF-{definition.name}",
            definition.label,
            ResultStatus.FAILING,
            f"Custom field required before {Stage(stage).label.lower()}: not filled in.",
        )
        for definition in missing_before("initiative", initiative.custom_fields, stage)
    ]


def compliance_gates(stage: str) -> list[str]:
    """Gates counted for compliance: those passed so far and the next one."""
    next_gate = NEXT_GATE.get(stage, Gate.INTAKE)
    return GATE_ORDER[: GATE_ORDER.index(next_gate) + 1]


def controls_evaluate_all(chunk_size: int = 500) -> int:
    """Re-evaluate automated controls of every initiative not retired or rejected."""
    count = 0
    live = Initiative.objects.exclude(stage__in=[Stage.RETIRED, Stage.REJECTED]).select_related(
        "accountable_owner"
    )
    for initiative in live.iterator(chunk_size=chunk_size):
        controls_evaluate(initiative=initiative)
        count += 1
    return count


def schedule_controls_evaluation(initiative_id: int) -> None:
    """Portfolio change hook: evaluate the initiative's controls in the background."""
    enqueue("governance.tasks.evaluate_controls_task", initiative_id)


def schedule_vendor_controls_evaluation(vendor_id: int) -> int:
    """Vendor-register hook: a vendor's due diligence changed, so the controls (VEN-01 among
    them) of every initiative its models serve, not retired or rejected, are evaluated again
    in the background. Returns how many evaluations were scheduled."""
    served = (
        Initiative.objects.filter(ai_models__vendor_id=vendor_id)
        .exclude(stage__in=[Stage.RETIRED, Stage.REJECTED])
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )
    ids = list(served)
    for initiative_id in ids:
        schedule_controls_evaluation(initiative_id)
    return len(ids)


def automated_controls_pass(initiative: Initiative) -> bool:
    """Every applicable automated control passes (the fast-path condition). Reads only."""
    existing = {
        result.control_id: result for result in ControlResult.objects.filter(initiative=initiative)
    }
    return all(
        status in (ResultStatus.PASSING, ResultStatus.NOT_APPLICABLE)
        for control, _, status, _ in _evaluations(initiative, existing)
        if control.kind == ControlKind.AUTOMATED
    )
