"""Writes of the model registry: models, versions and their lifecycle, validations,
monitoring, review reminders and the vendor register."""

import datetime
import math

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind, Role
from core.exceptions import Conflict
from core.gates import is_approved_request, subject_of
from core.selectors import users_with_roles
from core.services import (
    apply_changes,
    create_audited,
    notification_send,
    snapshot,
    update_audited,
)
from inventory.registry.choices import (
    GATED_VERSION_STATUSES,
    REVIEWED_VERSION_STATUSES,
    ModelStatus,
    MonitoringSource,
    MonitoringStatus,
    ReminderKind,
)
from inventory.registry.models import (
    AIModel,
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    ReviewReminder,
    Vendor,
    VendorProduct,
)
from inventory.registry.permissions import (
    can_create_model,
    can_edit_model,
    can_manage_vendors,
    can_report_monitoring,
)
from portfolio.initiatives.selectors import live_initiative_filter, live_initiatives
from portfolio.initiatives.services import initiatives_changed

MODEL_FIELDS = (
    "name",
    "model_type",
    "vendor",
    "licence",
    "hosting",
    "business_unit",
    "owner",
    "description",
    "custom_fields",
)


def _set_initiatives(model: AIModel, initiatives) -> dict:
    if initiatives is None:
        return {}
    before = sorted(model.initiatives.values_list("pk", flat=True))
    model.initiatives.set(initiatives)
    after = sorted(initiative.pk for initiative in initiatives)
    return {} if before == after else {"initiatives": (before, after)}


def model_create(*, actor, data: dict) -> AIModel:
    if not can_create_model(actor, data.get("business_unit")):
        raise PermissionDenied("You cannot register models for that business unit.")
    model = AIModel(**{name: value for name, value in data.items() if name in MODEL_FIELDS})
    model.full_clean()
    with transaction.atomic():
        model.save()
        _set_initiatives(model, data.get("initiatives"))
        model_tiers_refresh(actor=actor, models=[model])
        initiatives_changed(initiative.pk for initiative in data.get("initiatives") or [])
        record_event(
            actor=actor,
            action="ai_model.created",
            target=model,
            after={
                **snapshot(model, MODEL_FIELDS),
                "initiatives": [i.pk for i in data.get("initiatives") or []],
            },
        )
    return model


def model_update(*, actor, model: AIModel, data: dict) -> AIModel:
    if not can_edit_model(actor, model):
        raise PermissionDenied("You cannot edit this model.")
    moving = "business_unit" in data and data["business_unit"].pk != model.business_unit_id
    if moving and not can_create_model(actor, data["business_unit"]):
        raise PermissionDenied("You cannot move a model to that business unit.")
    with transaction.atomic():
        locked = AIModel.objects.select_for_update().get(pk=model.pk)
        before, after = apply_changes(locked, data, MODEL_FIELDS)
        locked.full_clean()
        locked.save()
        linked = _set_initiatives(locked, data.get("initiatives"))
        if linked:
            before["initiatives"], after["initiatives"] = linked["initiatives"]
            model_tiers_refresh(actor=actor, models=[locked])
            # Controls about models (model card, drift) of both old and new consumers.
            initiatives_changed({*before["initiatives"], *after["initiatives"]})
        if after:
            record_event(
                actor=actor, action="ai_model.updated", target=locked, before=before, after=after
            )
    return locked


def model_version_create(*, actor, model: AIModel, data: dict) -> ModelVersion:
    if not can_edit_model(actor, model):
        raise PermissionDenied("You cannot add versions to this model.")
    version = ModelVersion(
        model=model, **{name: value for name, value in data.items() if name in MODEL_VERSION_FIELDS}
    )
    version.next_review_due = review_due_on(version, model.effective_tier)
    version.full_clean()
    with transaction.atomic():
        version.save()  # refuses a new version in production (the model_release gate)
        record_event(
            actor=actor,
            action="model_version.created",
            target=version,
            after=snapshot(version, (*MODEL_VERSION_FIELDS, "next_review_due")),
        )
    return version


def model_cards_incomplete(*, initiative) -> list[str]:
    """For each model serving ``initiative``, what its newest live version's card lacks."""
    from inventory.registry.choices import ModelStatus

    problems = []
    models = initiative.ai_models.prefetch_related("versions")
    for model in models:
        live = [v for v in model.versions.all() if v.status != ModelStatus.RETIRED]
        if not live:
            problems.append(f"{model.name} has no version")
            continue
        newest = max(live, key=lambda version: (version.created_at, version.pk))
        missing = newest.missing_model_card_fields()
        if missing:
            problems.append(f"{model.name} {newest.version} lacks {', '.join(missing)}")
    return problems


# Months between validations by effective risk tier; a model serving no assessed initiative
# is reviewed yearly. Tier 4 initiatives cannot pass gates, but a model may still serve one.
REVIEW_INTERVAL_MONTHS = {1: 24, 2: 12, 3: 6, 4: 3}

DEFAULT_REVIEW_INTERVAL_MONTHS = 12

# Reminder thresholds in days before the due date, most distant first.
REMINDER_DAYS = ((30, ReminderKind.DAYS_30), (7, ReminderKind.DAYS_7))

MODEL_RELEASE_GATE = "model_release"

MODEL_VERSION_SUBJECT = ModelVersion._meta.label_lower

# A monitoring job's metric values must be finite and of a sane magnitude; a drift score is
# a share between 0 and 1.
METRIC_MAGNITUDE_LIMIT = 1e9

MAX_METRICS_PER_REPORT = 50

VENDOR_FIELDS = (
    "name",
    "website",
    "description",
    "contract_reference",
    "contract_ends_on",
    "data_processing_terms",
    "dpa_signed",
    "due_diligence_status",
    "due_diligence_on",
    "custom_fields",
)

VENDOR_PRODUCT_FIELDS = ("name", "kind", "description")

# A version's details and model card: what an edit may change (never the status).
MODEL_CARD_FIELDS = (
    "training_data_summary",
    "intended_use",
    "out_of_scope_uses",
    "limitations",
    "ethical_considerations",
    "fairness_evaluation",
    "human_oversight",
)
VERSION_DETAIL_FIELDS = (
    "artefact_uri",
    "released_on",
    "last_validated_on",
    *MODEL_CARD_FIELDS,
    "custom_fields",
)

VERSION_EDIT_FIELDS = ("version", *VERSION_DETAIL_FIELDS)
# A new version: its details and card, plus its starting status (before production).
MODEL_VERSION_FIELDS = ("version", "status", *VERSION_DETAIL_FIELDS)

_TIER_SOURCES: list = []


def register_tier_source(source) -> None:
    """``source(initiative_ids) -> {initiative_id: tier or None}``; governance registers one."""
    if source not in _TIER_SOURCES:
        _TIER_SOURCES.append(source)


def initiative_tiers(initiative_ids) -> dict[int, int | None]:
    ids = list(initiative_ids)
    tiers: dict[int, int | None] = dict.fromkeys(ids)
    for source in _TIER_SOURCES:
        for initiative_id, tier in source(ids).items():
            if tier is not None and (tiers.get(initiative_id) or 0) < tier:
                tiers[initiative_id] = tier
    return tiers


def review_interval(tier: int | None) -> relativedelta:
    return relativedelta(months=REVIEW_INTERVAL_MONTHS.get(tier, DEFAULT_REVIEW_INTERVAL_MONTHS))


def review_due_on(version: ModelVersion, tier: int | None) -> datetime.date | None:
    """Next validation due date: the last validation (else the release) plus the tier's
    interval. None for versions that are not on the schedule (not approved or in production)
    or that were never validated nor released."""
    if version.status not in REVIEWED_VERSION_STATUSES:
        return None
    since = version.last_validated_on or version.released_on
    return since + review_interval(tier) if since else None


def _reschedule(version: ModelVersion, tier: int | None) -> bool:
    due = review_due_on(version, tier)
    if due == version.next_review_due:
        return False
    ModelVersion.objects.filter(pk=version.pk).update(next_review_due=due)
    version.next_review_due = due
    return True


def model_tiers_refresh(*, actor=None, models=None, initiative_ids=None) -> int:
    """Recompute the effective tier (highest tier of the *live* initiatives served, see
    ``portfolio.initiatives.choices.LIVE_STAGES``) of ``models``, or of every model serving
    one of ``initiative_ids`` (live or not: one that has just stopped being live must stop
    counting), and move their versions' next review dates. Call inside the transaction that
    changed a tier or a link; a stage change reaches it through the change hook
    ``inventory.hooks.refresh_model_tiers``. Returns how many models changed tier; each
    change is audited."""
    queryset = AIModel.objects.all()
    if models is not None:
        queryset = queryset.filter(pk__in=[model.pk for model in models])
    if initiative_ids is not None:
        initiative_ids = list(initiative_ids)
        if (
            models is None
            and not AIModel.initiatives.through.objects.filter(
                initiative__in=initiative_ids
            ).exists()
        ):
            return 0  # no model serves them: nothing to lock or recompute
        queryset = queryset.filter(initiatives__in=initiative_ids)
    changed = 0
    links = AIModel.initiatives.through.objects.filter(
        live_initiative_filter("initiative__"), aimodel__in=queryset.values("pk")
    )
    served: dict[int, list[int]] = {}
    for model_id, initiative_id in links.values_list("aimodel_id", "initiative_id"):
        served.setdefault(model_id, []).append(initiative_id)
    tiers = initiative_tiers({pk for ids in served.values() for pk in ids})
    # Lock through a pk subquery: PostgreSQL refuses FOR UPDATE with DISTINCT (the join on
    # initiatives would need it), and pk order keeps concurrent refreshes from deadlocking.
    locked = (
        AIModel.objects.filter(pk__in=queryset.values("pk"))
        .order_by("pk")
        .select_for_update()
        .prefetch_related("versions")
    )
    for model in locked:
        known = [tiers[pk] for pk in served.get(model.pk, []) if tiers.get(pk) is not None]
        tier = max(known) if known else None
        if tier == model.effective_tier:
            continue
        before = model.effective_tier
        AIModel.objects.filter(pk=model.pk).update(effective_tier=tier)
        moved = {
            version.version: str(version.next_review_due)
            for version in model.versions.all()
            if _reschedule(version, tier)
        }
        record_event(
            actor=actor,
            action="ai_model.tier_changed",
            target=model,
            before={"effective_tier": before},
            after={"effective_tier": tier, "next_review_due": moved},
        )
        changed += 1
    return changed


def highest_tier_initiative(model: AIModel):
    """The initiative whose gate a release of ``model`` goes through: the highest tier among
    the live initiatives it serves (``LIVE_STAGES``; ties: the oldest), or None when it
    serves none that is live."""
    initiatives = list(live_initiatives(model.initiatives.order_by("pk")))
    if not initiatives:
        return None
    tiers = initiative_tiers(initiative.pk for initiative in initiatives)
    return max(initiatives, key=lambda initiative: (tiers[initiative.pk] or 0, -initiative.pk))


def model_version_update(*, actor, version: ModelVersion, data: dict) -> ModelVersion:
    """Edit a version's details and model card. The status is not among the fields: it
    changes only through ``model_version_change_status``."""
    if "status" in data and data["status"] != version.status:
        raise ValidationError({"status": "Change the status with a transition, not an edit."})
    if not can_edit_model(actor, version.model):
        raise PermissionDenied("You cannot edit this model.")
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        before, after = apply_changes(locked, data, VERSION_EDIT_FIELDS)
        locked.full_clean()
        if after:
            locked.save()
            if "last_validated_on" in after or "released_on" in after:
                _reschedule(locked, locked.model.effective_tier)
            record_event(
                actor=actor,
                action="model_version.updated",
                target=locked,
                before=before,
                after=after,
            )
            initiatives_changed(locked.model.initiatives.values_list("pk", flat=True))
    return locked


def model_version_change_status(
    *, actor, version: ModelVersion, to_status: str, reason: str = "", via_gate=None
) -> ModelVersion:
    """Move a version along ``VERSION_TRANSITIONS``. Production needs ``via_gate``: the
    approved ``model_release`` request for this very version (governance passes it when the
    request's last step is approved). A compare-and-set update makes concurrent moves safe."""
    if to_status not in ModelStatus.values:
        raise ValidationError({"status": "Unknown status."})
    gated = to_status in GATED_VERSION_STATUSES
    if gated and not is_approved_request(
        via_gate, gate=MODEL_RELEASE_GATE, subject=subject_of(version)
    ):
        raise ValidationError({"status": ModelVersion.RELEASE_REQUIRED})
    if not gated and not can_edit_model(actor, version.model):
        raise PermissionDenied("You cannot change this model's versions.")
    today = timezone.localdate()
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        if locked.status == to_status:
            return locked  # repeated form or gate effect: nothing to do
        if not locked.can_move_to(to_status):
            raise Conflict(
                {
                    "status": f"A {locked.get_status_display().lower()} version cannot become "
                    f"{ModelStatus(to_status).label.lower()}."
                }
            )
        from_status = locked.status
        changes = {"status": to_status}
        if to_status == ModelStatus.PRODUCTION and locked.released_on is None:
            changes["released_on"] = today
        if to_status == ModelStatus.APPROVED and locked.last_validated_on is None:
            changes["last_validated_on"] = today
        updated = ModelVersion.objects.filter(pk=locked.pk, status=from_status).update(**changes)
        if updated != 1:
            raise Conflict({"status": "The version changed meanwhile; reload and try again."})
        locked.refresh_from_db()
        _reschedule(locked, locked.model.effective_tier)
        record_event(
            actor=actor,
            action="model_version.status_changed",
            target=locked,
            before={"status": from_status},
            after={
                "status": to_status,
                "gate": via_gate.pk if via_gate is not None else None,
                "next_review_due": str(locked.next_review_due),
            },
            reason=reason,
        )
        initiatives_changed(locked.model.initiatives.values_list("pk", flat=True))
    return locked


def model_version_record_validation(
    *, actor, version: ModelVersion, validated_on: datetime.date, note: str = ""
) -> ModelVersion:
    """Record a (re)validation: the review clock restarts from ``validated_on``."""
    if not can_edit_model(actor, version.model):
        raise PermissionDenied("You cannot record validations of this model.")
    if validated_on > timezone.localdate():
        raise ValidationError({"validated_on": "A validation cannot be in the future."})
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        before = {"last_validated_on": str(locked.last_validated_on)}
        ModelVersion.objects.filter(pk=locked.pk).update(last_validated_on=validated_on)
        locked.last_validated_on = validated_on
        _reschedule(locked, locked.model.effective_tier)
        record_event(
            actor=actor,
            action="model_version.validated",
            target=locked,
            before=before,
            after={
                "last_validated_on": str(validated_on),
                "next_review_due": str(locked.next_review_due),
            },
            reason=note,
        )
    return locked


def _in_metric_range(number: float) -> bool:
    """Evaluation and monitoring metric values: finite, at most ``METRIC_MAGNITUDE_LIMIT``."""
    return math.isfinite(number) and abs(number) <= METRIC_MAGNITUDE_LIMIT


def evaluation_metric_add(*, actor, version: ModelVersion, data: dict) -> EvaluationMetric:
    if not can_edit_model(actor, version.model):
        raise PermissionDenied("You cannot add metrics to this model.")
    metric = EvaluationMetric(
        version=version,
        name=(data.get("name") or "").strip(),
        value=data.get("value"),
        dataset=(data.get("dataset") or "").strip(),
        measured_on=data.get("measured_on") or timezone.localdate(),
    )
    metric.full_clean()
    if not _in_metric_range(metric.value):
        raise ValidationError({"value": "Enter a finite number."})
    with transaction.atomic():
        metric.save()
        record_event(
            actor=actor,
            action="evaluation_metric.added",
            target=version,
            after={
                "name": metric.name,
                "value": metric.value,
                "dataset": metric.dataset,
                "measured_on": str(metric.measured_on),
            },
        )
    return metric


def clean_monitoring_metrics(metrics) -> dict[str, float]:
    """Validate a monitoring report's metrics: {name: finite number}; ``drift_score`` (and
    any name ending in ``_share``) must lie between 0 and 1."""
    if metrics in (None, ""):
        return {}
    if not isinstance(metrics, dict):
        raise ValidationError({"metrics": "Send an object of metric names and numbers."})
    if len(metrics) > MAX_METRICS_PER_REPORT:
        raise ValidationError({"metrics": f"At most {MAX_METRICS_PER_REPORT} metrics a report."})
    cleaned = {}
    for name, value in metrics.items():
        label = str(name).strip()
        if not label or len(label) > 100:
            raise ValidationError({"metrics": "Metric names are 1 to 100 characters."})
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError({"metrics": f"{label}: send a number."})
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float, e.g. 10**400 from JSON
            raise ValidationError({"metrics": f"{label}: the number is out of range."}) from None
        if not _in_metric_range(number):
            raise ValidationError({"metrics": f"{label}: {value} is out of range."})
        if (label == "drift_score" or label.endswith("_share")) and not 0 <= number <= 1:
            raise ValidationError({"metrics": f"{label} must be between 0 and 1, not {value}."})
        cleaned[label] = number
    return cleaned


def _drift_recipients(model: AIModel):
    """The model's owner, the owners of the initiatives it serves, and the platform team."""
    owners = [model.owner_id, *model.initiatives.values_list("accountable_owner_id", flat=True)]
    return users_with_roles({Role.PLATFORM_ENGINEER}, also=owners).order_by("pk")


def model_version_report_monitoring(
    *,
    actor,
    version: ModelVersion,
    status: str,
    metrics=None,
    note: str = "",
    source: str = MonitoringSource.MANUAL,
) -> MonitoringReport:
    """Record a monitoring status for a production version (by a monitoring job through the
    API, or by hand), with its metric values, and keep the history. Turning ``drifting``
    notifies the people responsible and re-evaluates the controls of every initiative that
    uses the model (its automated monitoring control then fails)."""
    if not can_report_monitoring(actor, version.model):
        raise PermissionDenied("You cannot report monitoring for this model.")
    if status not in MonitoringStatus.values:
        raise ValidationError({"status": f"Choose one of {', '.join(MonitoringStatus.values)}."})
    if source not in MonitoringSource.values:
        raise ValidationError({"source": "Unknown source."})
    cleaned = clean_monitoring_metrics(metrics)
    now = timezone.now()
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        if locked.status != ModelStatus.PRODUCTION:
            raise ValidationError(
                {
                    "status": "Only versions in production are monitored; this one is "
                    f"{locked.get_status_display().lower()}."
                }
            )
        previous = locked.monitoring_status
        report = MonitoringReport.objects.create(
            version=locked,
            status=status,
            metrics=cleaned,
            source=source,
            note=note.strip(),
            reported_by=actor,
            reported_at=now,
        )
        ModelVersion.objects.filter(pk=locked.pk).update(
            monitoring_status=status, monitoring_updated_at=now, last_metrics=cleaned
        )
        locked.monitoring_status = status
        record_event(
            actor=actor,
            action="model_version.monitoring_reported",
            target=locked,
            before={"monitoring_status": previous},
            after={"monitoring_status": status, "metrics": cleaned, "source": source},
            reason=note,
        )
        if status != previous:
            initiatives_changed(locked.model.initiatives.values_list("pk", flat=True))
        if status == MonitoringStatus.DRIFTING and previous != MonitoringStatus.DRIFTING:
            for person in _drift_recipients(locked.model):
                notification_send(
                    recipient=person,
                    subject=f"Model drifting: {locked}",
                    body=f"{locked} in production reports drift. Metrics: {cleaned or 'none'}.",
                    url=locked.get_absolute_url(),
                    kind=NotificationKind.MODEL_DRIFT,
                )
    return report


def _reminder_kind(days_left: int) -> str | None:
    if days_left < 0:
        return ReminderKind.OVERDUE
    for threshold, kind in reversed(REMINDER_DAYS):
        if days_left <= threshold:
            return kind
    return None


def _overdue_recipients(model: AIModel):
    """The model's owner, CoE admins and risk officers."""
    return users_with_roles({Role.COE_ADMIN, Role.RISK_OFFICER}, also=[model.owner_id]).order_by(
        "pk"
    )


def model_reviews_remind(*, today: datetime.date | None = None) -> dict[str, int]:
    """Send each review reminder once: 30 days and 7 days before a version's next review is
    due (to the model's owner), and an escalation once it is overdue (owner, CoE admins and
    risk officers). A ``ReviewReminder`` row per (version, due date, kind) guarantees once,
    also under concurrent runs; a moved due date starts a fresh set. Returns counts by kind."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=REMINDER_DAYS[0][0])
    due = (
        ModelVersion.objects.filter(
            status__in=REVIEWED_VERSION_STATUSES,
            next_review_due__isnull=False,
            next_review_due__lte=horizon,
        )
        .select_related("model__owner")
        .order_by("next_review_due", "pk")
    )
    sent = dict.fromkeys(ReminderKind.values, 0)
    for version in due.iterator(chunk_size=500):
        kind = _reminder_kind((version.next_review_due - today).days)
        if kind is None:
            continue
        with transaction.atomic():
            _, created = ReviewReminder.objects.get_or_create(
                version=version,
                due_on=version.next_review_due,
                kind=kind,
                defaults={"sent_at": timezone.now()},
            )
            if not created:
                continue
            _send_reminder(version, kind)
        sent[kind] += 1
    return sent


def _send_reminder(version: ModelVersion, kind: str) -> None:
    due = f"{version.next_review_due:%d %b %Y}"
    if kind == ReminderKind.OVERDUE:
        recipients = _overdue_recipients(version.model)
        subject = f"Review overdue: {version} (was due {due})"
        record_event(
            actor=None,
            action="model_version.review_overdue",
            target=version,
            after={"next_review_due": str(version.next_review_due)},
        )
    else:
        recipients = [version.model.owner]
        subject = f"Review due {due}: {version}"
    for person in recipients:
        notification_send(
            recipient=person,
            subject=subject,
            body=f"{version} needs its periodic validation by {due}.",
            url=version.get_absolute_url(),
            kind=NotificationKind.MODEL_REVIEW,
        )


def vendor_create(*, actor, data: dict) -> Vendor:
    if not can_manage_vendors(actor):
        raise PermissionDenied("Only the CoE and platform engineers keep the vendor register.")
    vendor = Vendor(**{name: value for name, value in data.items() if name in VENDOR_FIELDS})
    vendor.full_clean()
    return create_audited(vendor, actor=actor, action="vendor.created", fields=VENDOR_FIELDS)


_DILIGENCE_HOOKS: list = []


def register_diligence_hook(hook) -> None:
    """``hook(vendor_id)`` runs after a vendor's due-diligence status changed and the change
    committed; governance registers one (its vendor control reads that status)."""
    if hook not in _DILIGENCE_HOOKS:
        _DILIGENCE_HOOKS.append(hook)


def vendor_update(*, actor, vendor: Vendor, data: dict) -> Vendor:
    if not can_manage_vendors(actor):
        raise PermissionDenied("Only the CoE and platform engineers keep the vendor register.")
    with transaction.atomic():
        previous = Vendor.objects.values_list("due_diligence_status", flat=True).get(pk=vendor.pk)
        updated = update_audited(
            vendor, actor=actor, action="vendor.updated", data=data, fields=VENDOR_FIELDS
        )
        if updated.due_diligence_status != previous:
            for hook in _DILIGENCE_HOOKS:
                transaction.on_commit(lambda hook=hook: hook(updated.pk))
    return updated


def vendor_product_create(*, actor, vendor: Vendor, data: dict) -> VendorProduct:
    if not can_manage_vendors(actor):
        raise PermissionDenied("Only the CoE and platform engineers keep the vendor register.")
    product = VendorProduct(
        vendor=vendor,
        **{name: value for name, value in data.items() if name in VENDOR_PRODUCT_FIELDS},
    )
    product.full_clean()
    with transaction.atomic():
        product.save()
        record_event(
            actor=actor,
            action="vendor_product.created",
            target=product,
            after=snapshot(product, VENDOR_PRODUCT_FIELDS),
        )
    return product


def vendor_product_update(*, actor, product: VendorProduct, data: dict) -> VendorProduct:
    if not can_manage_vendors(actor):
        raise PermissionDenied("Only the CoE and platform engineers keep the vendor register.")
    # Locks the row, full_clean (the (vendor, name) constraint too), audits before/after.
    action = "vendor_product.updated"
    return update_audited(
        product, actor=actor, action=action, data=data, fields=VENDOR_PRODUCT_FIELDS
    )
