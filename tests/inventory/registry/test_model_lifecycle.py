"""The model lifecycle end to end through the real services: production only through an
approved ``model_release`` request, the effective tier and review dates, review reminders
(task and command), monitoring reports and the MON-02 control, and concurrent reminder runs."""

import datetime
import io
import json
import threading
import zoneinfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.choices import NotificationKind, Role
from core.models import AuditEvent, Notification
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.risk import services as risk
from governance.risk.models import ControlResult
from inventory.registry import services
from inventory.registry import services as model_services
from inventory.registry.choices import ModelStatus, ModelType, ReminderKind
from inventory.registry.forms import ModelVersionForm
from inventory.registry.models import AIModel, ModelVersion, MonitoringReport, ReviewReminder
from inventory.registry.tasks import model_reviews_remind_task
from portfolio.initiatives.choices import Stage
from tests.factories import InitiativeFactory, member
from tests.governance.helpers import LOW_RISK, TIER_2, TIER_3, assess
from tests.inventory.helpers import form_data

pytestmark = pytest.mark.django_db

# The fields MOD-01 (model card complete, required by the model_release gate) looks for.
CARD = {
    "intended_use": "Rank incoming claims for manual review.",
    "limitations": "Not trained on commercial lines.",
    "human_oversight": "A handler confirms every ranking.",
}
NOTHING = {kind: 0 for kind in ReminderKind.values}


@pytest.fixture
def people(unit_a):
    return {
        "reviewer": member(Role.COE_REVIEWER, unit_a, username="rev1"),
        "lead": member(Role.COE_ADMIN, unit_a, username="colead"),
        "risk": member(Role.RISK_OFFICER, unit_a, username="riskoff"),
    }


def payload(event: AuditEvent) -> dict:
    return json.loads(event.payload)


def live_initiative(unit, owner):
    """An initiative in a live stage: only live ones count for a model's tier and gate."""
    return InitiativeFactory(business_unit=unit, accountable_owner=owner, stage=Stage.PROPOSED)


def model_serving(owner, unit, *initiatives, name="claims-ranker") -> AIModel:
    return services.model_create(
        actor=owner,
        data={
            "name": name,
            "model_type": ModelType.CLASSICAL_ML,
            "business_unit": unit,
            "owner": owner,
            "initiatives": list(initiatives),
        },
    )


def new_version(actor, model, version="1.0", **fields) -> ModelVersion:
    return services.model_version_create(
        actor=actor, model=model, data={"version": version, **CARD, **fields}
    )


def approve(actor, version) -> ModelVersion:
    """development → validation → approved, by someone who may edit the model."""
    for status in (ModelStatus.VALIDATION, ModelStatus.APPROVED):
        version = model_services.model_version_change_status(
            actor=actor, version=version, to_status=status
        )
    return version


def release_fast_tracked(actor, version) -> ModelVersion:
    """Release through the Tier 1 fast path (every automated control passes)."""
    request = engine.model_release_submit(actor=actor, version=version)
    assert request.status == RequestStatus.APPROVED and request.fast_tracked
    version.refresh_from_db()
    assert version.status == ModelStatus.PRODUCTION
    return version


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )


# --- a. Production only through an approved model_release request ----------------------------


def test_production_is_refused_without_an_approved_release(client, unit_a, member_a, people):
    tier_3 = live_initiative(unit_a, member_a)
    model = model_serving(member_a, unit_a, tier_3)
    assess(tier_3, member_a, TIER_3)
    version = approve(member_a, new_version(member_a, model, "1.0"))
    other = approve(member_a, new_version(member_a, model, "1.1"))
    pending = engine.model_release_submit(actor=member_a, version=version)
    assert pending.status == RequestStatus.PENDING
    events = AuditEvent.objects.count()

    for via_gate in (None, pending):
        with pytest.raises(ValidationError, match="approved model release"):
            model_services.model_version_change_status(
                actor=member_a, version=version, to_status="production", via_gate=via_gate
            )
    stored = ModelVersion.objects.get(pk=version.pk)
    stored.status = ModelStatus.PRODUCTION
    with pytest.raises(ValidationError, match="model_version_change_status"):
        stored.save()
    with pytest.raises(ValidationError, match="approved model release"):
        new_version(member_a, model, "2.0", status="production")
    assert not model.versions.filter(version="2.0").exists()
    assert AuditEvent.objects.count() == events
    assert set(model.versions.values_list("status", flat=True)) == {ModelStatus.APPROVED}

    # The HTML form does not offer production, and posting it anyway adds nothing.
    form = ModelVersionForm(model=model)
    assert "production" not in dict(form.fields["status"].choices)
    client.force_login(member_a)
    response = client.post(
        reverse("inventory:model_version_create", args=[model.pk]),
        form_data(form, version="3.0", status="production"),
    )
    assert response.status_code == 200
    assert "status" in response.context["version_form"].errors
    assert not model.versions.filter(version="3.0").exists()
    assert AuditEvent.objects.count() == events

    # Approve the pending request; its approval does not release another version.
    engine.request_decide(actor=people["reviewer"], request=pending, outcome="approve")
    engine.request_decide(actor=people["risk"], request=pending, outcome="approve")
    pending.refresh_from_db()
    assert pending.status == RequestStatus.APPROVED
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="approved model release"):
        model_services.model_version_change_status(
            actor=member_a, version=other, to_status="production", via_gate=pending
        )
    other.refresh_from_db()
    assert other.status == ModelStatus.APPROVED
    assert AuditEvent.objects.count() == events


def test_release_goes_through_the_highest_tier_initiatives_policy(
    unit_a, member_a, people, django_capture_on_commit_callbacks
):
    tier_1 = live_initiative(unit_a, member_a)
    tier_3 = live_initiative(unit_a, member_a)
    model = model_serving(member_a, unit_a, tier_1, tier_3)
    assess(tier_1, member_a, LOW_RISK)
    assess(tier_3, member_a, TIER_3)
    model.refresh_from_db()
    assert model.effective_tier == 3

    version = approve(member_a, new_version(member_a, model, "1.0"))
    assert version.status == ModelStatus.APPROVED
    moves = AuditEvent.objects.filter(action="model_version.status_changed").order_by("sequence")
    assert [(payload(e)["before"]["status"], payload(e)["after"]["status"]) for e in moves] == [
        ("development", "validation"),
        ("validation", "approved"),
    ]

    request = engine.model_release_submit(actor=member_a, version=version, comment="Go live.")
    assert (request.initiative, request.tier, request.status) == (tier_3, 3, "pending")
    assert (request.gate, request.subject_id) == ("model_release", str(version.pk))
    assert [step["role"] for step in request.steps] == ["coe_reviewer", "risk_officer"]

    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    version.refresh_from_db()
    assert version.status == ModelStatus.APPROVED  # the risk review is still to come
    with django_capture_on_commit_callbacks(execute=True):
        engine.request_decide(actor=people["risk"], request=request, outcome="approve")
    request.refresh_from_db()
    version.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert version.status == ModelStatus.PRODUCTION
    assert version.released_on == timezone.localdate()
    assert version.next_review_due == version.last_validated_on + relativedelta(months=6)
    release = AuditEvent.objects.filter(action="model_version.status_changed").last()
    assert release.actor == people["risk"] and release.object_id == str(version.pk)
    assert payload(release)["before"] == {"status": "approved"}
    assert payload(release)["after"]["status"] == "production"
    assert payload(release)["after"]["gate"] == request.pk


# --- b. The effective tier moves the review schedule -----------------------------------------


def test_raising_the_initiatives_tier_moves_the_review_dates(unit_a, member_a, people):
    initiative = live_initiative(unit_a, member_a)
    model = model_serving(member_a, unit_a, initiative)
    assessment = assess(initiative, member_a, LOW_RISK)
    validated = timezone.localdate() - datetime.timedelta(days=10)
    live = release_fast_tracked(
        member_a,
        approve(member_a, new_version(member_a, model, "1.0", last_validated_on=validated)),
    )
    candidate = approve(member_a, new_version(member_a, model, "1.1", last_validated_on=validated))
    model.refresh_from_db()
    assert model.effective_tier == 1
    assert live.next_review_due == candidate.next_review_due == validated + relativedelta(months=24)

    def dues():
        return set(model.versions.values_list("next_review_due", flat=True))

    # A re-assessment to Tier 2: reviewed yearly.
    assessment = assess(initiative, member_a, TIER_2)
    model.refresh_from_db()
    assert model.effective_tier == 2
    assert dues() == {validated + relativedelta(months=12)}

    # A risk officer overrides to Tier 3: every six months.
    risk.assessment_override(
        actor=people["risk"],
        assessment=assessment,
        tier=3,
        justification="Customer outcomes depend on its ranking.",
    )
    model.refresh_from_db()
    assert model.effective_tier == 3
    assert dues() == {validated + relativedelta(months=6)}
    change = AuditEvent.objects.filter(action="ai_model.tier_changed").last()
    assert change.actor == people["risk"] and change.object_id == str(model.pk)
    assert payload(change)["before"] == {"effective_tier": 2}
    assert payload(change)["after"]["effective_tier"] == 3
    assert payload(change)["after"]["next_review_due"] == {
        "1.0": str(validated + relativedelta(months=6)),
        "1.1": str(validated + relativedelta(months=6)),
    }


def test_linking_a_model_to_a_higher_tier_initiative_raises_its_tier(unit_a, member_a):
    low = live_initiative(unit_a, member_a)
    high = live_initiative(unit_a, member_a)
    assess(low, member_a, LOW_RISK)
    assess(high, member_a, TIER_3)
    model = model_serving(member_a, unit_a, low)
    validated = timezone.localdate() - datetime.timedelta(days=3)
    version = approve(member_a, new_version(member_a, model, "1.0", last_validated_on=validated))
    model.refresh_from_db()
    assert model.effective_tier == 1
    assert version.next_review_due == validated + relativedelta(months=24)

    services.model_update(actor=member_a, model=model, data={"initiatives": [low, high]})
    model.refresh_from_db()
    version.refresh_from_db()
    assert model.effective_tier == 3
    assert version.next_review_due == validated + relativedelta(months=6)
    change = AuditEvent.objects.filter(action="ai_model.tier_changed").last()
    assert change.actor == member_a
    assert (payload(change)["before"], payload(change)["after"]["effective_tier"]) == (
        {"effective_tier": 1},
        3,
    )


# --- c. Review reminders ---------------------------------------------------------------------


def test_review_reminders_go_out_once_each(
    unit_a, member_a, people, django_capture_on_commit_callbacks, mailoutbox
):
    validated = datetime.date(2030, 2, 15)
    due = datetime.date(2032, 2, 15)  # Tier 1: two years after the last validation
    with time_machine.travel(at_noon(datetime.date(2030, 3, 1)), tick=False):
        initiative = live_initiative(unit_a, member_a)
        model = model_serving(member_a, unit_a, initiative)
        assess(initiative, member_a, LOW_RISK)
        version = release_fast_tracked(
            member_a,
            approve(member_a, new_version(member_a, model, "1.0", last_validated_on=validated)),
        )
    assert version.next_review_due == due
    Notification.objects.all().delete()
    mailoutbox.clear()
    seen: set[int] = set()

    def run(day, *, via="task"):
        """Run the reminders on ``day`` through the Celery task (eager) or the command;
        returns (counts or the command's output, usernames of the new review notifications,
        addresses emailed after commit)."""
        with (
            time_machine.travel(at_noon(day), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            if via == "task":
                counts = model_reviews_remind_task.delay().get()
            else:
                out = io.StringIO()
                call_command("remind_model_reviews", "--today", day.isoformat(), stdout=out)
                counts = out.getvalue()
        fresh = Notification.objects.filter(kind=NotificationKind.MODEL_REVIEW).exclude(pk__in=seen)
        seen.update(fresh.values_list("pk", flat=True))
        people_told = sorted(fresh.values_list("recipient__username", flat=True))
        emailed = sorted(message.to[0] for message in mailoutbox)
        mailoutbox.clear()
        return counts, people_told, emailed

    days = datetime.timedelta(days=1)
    assert run(due - 31 * days) == (NOTHING, [], [])
    assert run(due - 30 * days) == (
        {**NOTHING, "days_30": 1},
        ["alice"],
        ["alice@example.com"],
    )
    counts, told, emailed = run(due - 30 * days, via="command")
    assert "30 days before: 0" in counts and "Sent 0 review reminders." in counts
    assert (told, emailed) == ([], [])
    assert run(due - 26 * days) == (NOTHING, [], [])
    assert run(due - 7 * days) == ({**NOTHING, "days_7": 1}, ["alice"], ["alice@example.com"])
    assert run(due - 7 * days) == (NOTHING, [], [])
    assert run(due) == (NOTHING, [], [])
    assert not AuditEvent.objects.filter(action="model_version.review_overdue").exists()

    counts, told, emailed = run(due + days, via="command")
    assert "Overdue (escalated): 1" in counts and "Sent 1 review reminder." in counts
    assert told == ["alice", "colead", "riskoff"]
    assert emailed == ["alice@example.com", "colead@example.com", "riskoff@example.com"]
    overdue = AuditEvent.objects.get(action="model_version.review_overdue")
    assert overdue.object_id == str(version.pk) and overdue.actor is None
    assert payload(overdue)["after"] == {"next_review_due": str(due)}
    assert run(due + days) == (NOTHING, [], [])
    assert run(due + 5 * days) == (NOTHING, [], [])
    assert sorted(ReviewReminder.objects.values_list("kind", flat=True)) == sorted(
        [ReminderKind.DAYS_30, ReminderKind.DAYS_7, ReminderKind.OVERDUE]
    )

    # A new validation restarts the clock: a fresh set of reminders for the new date.
    revalidated = due + 6 * days
    with time_machine.travel(at_noon(revalidated), tick=False):
        version = model_services.model_version_record_validation(
            actor=member_a, version=version, validated_on=revalidated, note="Annual review."
        )
    new_due = revalidated + relativedelta(months=24)
    assert version.next_review_due == new_due
    assert ModelVersion.objects.get(pk=version.pk).next_review_due == new_due
    assert run(revalidated) == (NOTHING, [], [])
    assert run(new_due - 30 * days) == (
        {**NOTHING, "days_30": 1},
        ["alice"],
        ["alice@example.com"],
    )
    assert ReviewReminder.objects.filter(due_on=new_due).count() == 1
    assert AuditEvent.objects.filter(action="model_version.review_overdue").count() == 1


def test_remind_command_refuses_a_malformed_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("remind_model_reviews", "--today", "31/01/2030")


def test_reminder_task_is_scheduled_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["remind-model-reviews-nightly"]
    assert entry["task"] == "inventory.tasks.model_reviews_remind_task"
    assert model_reviews_remind_task.name == entry["task"]


# --- d. Monitoring ---------------------------------------------------------------------------


@pytest.fixture
def monitored(unit_a, member_a, platform_engineer):
    """A production version of a model serving two initiatives of different owners."""
    model_owner = member(Role.BU_MEMBER, unit_a, username="mona")
    olivia = member(Role.BU_MEMBER, unit_a, username="olivia")
    first = live_initiative(unit_a, member_a)
    second = live_initiative(unit_a, olivia)
    model = model_serving(model_owner, unit_a, first, second)
    assess(first, member_a, LOW_RISK)
    assess(second, olivia, LOW_RISK)
    version = release_fast_tracked(
        model_owner, approve(model_owner, new_version(model_owner, model, "1.0"))
    )
    candidate = approve(model_owner, new_version(model_owner, model, "1.1"))
    return {
        "version": version,
        "candidate": candidate,
        "initiatives": [first, second],
        "reporter": platform_engineer,
    }


def mon_02(initiative) -> str:
    return ControlResult.objects.get(initiative=initiative, control__code="MON-02").status


@pytest.mark.parametrize(
    "metrics",
    [
        {"drift_score": 1.5},
        {"latency_ms": "fast"},
        {"alerting": True},
        {"latency_ms": 1e12},
        {"latency_ms": 10**400},
        {"latency_ms": float("nan")},
        ["drift_score", 0.2],
    ],
)
def test_out_of_range_metrics_are_refused_and_nothing_is_written(monitored, metrics):
    version = monitored["version"]
    counts = (AuditEvent.objects.count(), Notification.objects.count())
    with pytest.raises(ValidationError) as caught:
        model_services.model_version_report_monitoring(
            actor=monitored["reporter"],
            version=version,
            status="drifting",
            metrics=metrics,
            source="api",
        )
    assert "metrics" in caught.value.message_dict
    version.refresh_from_db()
    assert version.monitoring_status == "unknown" and version.last_metrics == {}
    assert not MonitoringReport.objects.exists()
    assert (AuditEvent.objects.count(), Notification.objects.count()) == counts


def test_only_production_versions_are_monitored(monitored):
    candidate = monitored["candidate"]
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="Only versions in production"):
        model_services.model_version_report_monitoring(
            actor=monitored["reporter"], version=candidate, status="drifting"
        )
    candidate.refresh_from_db()
    assert candidate.monitoring_status == "unknown"
    assert not MonitoringReport.objects.exists()
    assert AuditEvent.objects.count() == events


def test_drift_alerts_once_and_fails_mon_02_of_every_initiative(
    monitored, django_capture_on_commit_callbacks, mailoutbox
):
    version, initiatives = monitored["version"], monitored["initiatives"]
    mailoutbox.clear()

    def report(status, metrics=None):
        with django_capture_on_commit_callbacks(execute=True):
            return model_services.model_version_report_monitoring(
                actor=monitored["reporter"],
                version=version,
                status=status,
                metrics=metrics,
                source="api",
                note="Nightly drift job.",
            )

    row = report("drifting", {"drift_score": 0.42, "latency_ms": 180})
    assert (row.status, row.metrics, row.source) == (
        "drifting",
        {"drift_score": 0.42, "latency_ms": 180.0},
        "api",
    )
    version.refresh_from_db()
    assert version.monitoring_status == "drifting"
    assert version.last_metrics == {"drift_score": 0.42, "latency_ms": 180.0}
    alerts = Notification.objects.filter(kind=NotificationKind.MODEL_DRIFT)
    assert sorted(alerts.values_list("recipient__username", flat=True)) == [
        "alice",
        "mona",
        "olivia",
        "pete",
    ]
    assert sorted(m.to[0] for m in mailoutbox) == [
        "alice@example.com",
        "mona@example.com",
        "olivia@example.com",
        "pete@example.com",
    ]
    assert [mon_02(initiative) for initiative in initiatives] == ["failing", "failing"]
    event = AuditEvent.objects.filter(action="model_version.monitoring_reported").last()
    assert payload(event)["before"] == {"monitoring_status": "unknown"}

    report("drifting", {"drift_score": 0.5})  # still drifting: history grows, no new alerts
    assert MonitoringReport.objects.filter(version=version).count() == 2
    assert alerts.count() == 4

    report("healthy", {"drift_score": 0.05})
    version.refresh_from_db()
    assert version.monitoring_status == "healthy"
    assert [mon_02(initiative) for initiative in initiatives] == ["passing", "passing"]
    assert alerts.count() == 4


# --- e. Concurrent reminder runs -------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and threads need PostgreSQL"
)


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_reminder_runs_send_each_reminder_once(unit_a, member_a):
    member(Role.COE_ADMIN, unit_a, username="colead")
    member(Role.RISK_OFFICER, unit_a, username="riskoff")
    today = timezone.localdate()
    model = model_serving(member_a, unit_a)  # serves no initiative: reviewed yearly
    # Five versions 20 days before their due date, three overdue by 5 days.
    soon = [
        approve(
            member_a,
            new_version(
                member_a,
                model,
                f"1.{n}",
                last_validated_on=today + datetime.timedelta(days=20) - relativedelta(months=12),
            ),
        )
        for n in range(5)
    ]
    late = [
        approve(
            member_a,
            new_version(
                member_a,
                model,
                f"0.{n}",
                last_validated_on=today - datetime.timedelta(days=5) - relativedelta(months=12),
            ),
        )
        for n in range(3)
    ]
    assert all(8 <= (version.next_review_due - today).days <= 30 for version in soon)
    assert all(version.next_review_due < today for version in late)
    barrier, results, errors = threading.Barrier(4), [], []

    def run():
        try:
            barrier.wait()
            results.append(model_services.model_reviews_remind(today=today))
        except Exception as error:  # noqa: BLE001 - any error fails the test below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(result["days_30"] for result in results) == 5
    assert sum(result["overdue"] for result in results) == 3
    assert sum(result["days_7"] for result in results) == 0
    assert ReviewReminder.objects.count() == 8
    assert set(ReviewReminder.objects.values_list("version", "kind")) == {
        *((version.pk, ReminderKind.DAYS_30) for version in soon),
        *((version.pk, ReminderKind.OVERDUE) for version in late),
    }
    reviews = Notification.objects.filter(kind=NotificationKind.MODEL_REVIEW)
    # One notification per recipient and reminder: the owner for each, CoE admin and risk
    # officer for each overdue one.
    assert reviews.count() == 5 + 3 * 3
    for version in late:
        told = reviews.filter(url=version.get_absolute_url())
        assert sorted(told.values_list("recipient__username", flat=True)) == [
            "alice",
            "colead",
            "riskoff",
        ]
    assert AuditEvent.objects.filter(action="model_version.review_overdue").count() == 3
    assert model_services.model_reviews_remind(today=today) == NOTHING
