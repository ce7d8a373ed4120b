"""The hash-chained audit log: every write is recorded, and any tampering is detected.

Tampering goes straight to the database (raw SQL and ``QuerySet.update()``), the way a DBA
with direct access would. On PostgreSQL the append-only trigger refuses that first, so the
tampering tests disable it the way only a superuser could, inside the test transaction.
"""

import json
from contextlib import contextmanager
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from config.celery import app as celery_app
from core import services as core_services
from core.audit import verify_audit_chain
from core.choices import Role
from core.models import AuditChainHead, AuditEvent, Notification
from core.tasks import verify_audit_chain_task
from portfolio.initiatives import services
from portfolio.initiatives.choices import Stage
from tests.factories import MembershipFactory, UserFactory, member

pytestmark = pytest.mark.django_db

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="the trigger exists on PostgreSQL only")


@pytest.fixture
def celery_eager():
    """Run tasks in-process even when a broker is configured (the PostgreSQL + Redis run)."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@contextmanager
def trigger_disabled():
    """Simulate a superuser bypassing the append-only trigger (no-op where there is none)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")


def raw_delete(event_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event_id])


def initiative_data(unit, owner, **overrides):
    return {
        "title": "Claims triage",
        "business_unit": unit,
        "accountable_owner": owner,
        **overrides,
    }


@pytest.fixture
def chain(coe_admin, member_a, unit_a):
    """Four events from four kinds of write; returns the events in sequence order."""
    core_services.business_unit_create(actor=coe_admin, data={"name": "Wealth", "code": "WEALTH"})
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    services.initiative_update(
        actor=member_a, initiative=initiative, data={"title": "Claims triage v2"}
    )
    services.initiative_change_stage(actor=member_a, initiative=initiative, to_stage=Stage.PROPOSED)
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    return events


def verify_command_output() -> str:
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def command_error() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit_chain", stdout=StringIO())
    return str(caught.value)


def names_row(event: AuditEvent) -> str:
    return f"AuditEvent id={event.pk} (sequence {event.sequence})"


# --- Every write is recorded ---------------------------------------------------------------


def test_every_write_records_an_audit_event(chain, coe_admin, member_a):
    created_unit, created, updated, staged = chain

    assert (created_unit.action, created_unit.actor, created_unit.object_type) == (
        "business_unit.created",
        coe_admin,
        "core.businessunit",
    )
    assert json.loads(created_unit.payload)["after"]["code"] == "WEALTH"

    assert (created.action, created.actor, created.object_type) == (
        "initiative.created",
        member_a,
        "portfolio.initiative",
    )
    assert json.loads(created.payload)["after"]["reference"] == "AI-0001"

    update_payload = json.loads(updated.payload)
    assert updated.action == "initiative.updated"
    assert update_payload["before"] == {"title": "Claims triage"}
    assert update_payload["after"] == {"title": "Claims triage v2"}

    stage_payload = json.loads(staged.payload)
    assert staged.action == "initiative.stage_changed"
    assert stage_payload["before"] == {"stage": "draft"}
    assert stage_payload["after"]["stage"] == "proposed"
    assert created.object_id == updated.object_id == staged.object_id

    # Each row links to the one before it, and the head records the tail.
    assert chain[0].previous_hash == ""
    for previous, event in zip(chain, chain[1:], strict=False):
        assert event.previous_hash == previous.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_sequence, head.last_hash) == (4, chain[-1].hash)


def test_a_refused_write_records_nothing(member_a, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    with pytest.raises(Exception, match="cannot move"):
        services.initiative_change_stage(
            actor=member_a, initiative=initiative, to_stage=Stage.SCALED
        )
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["initiative.created"]


def test_intact_chain_verifies(chain):
    report = verify_audit_chain()
    assert report.ok
    assert report.checked == 4
    assert verify_command_output().strip() == "Audit chain intact: 4 events verified."


def test_empty_chain_verifies():
    report = verify_audit_chain()
    assert (report.ok, report.checked) == (True, 0)


# --- Tampering is detected ------------------------------------------------------------------


def test_edited_payload_is_detected(chain):
    target = chain[1]
    forged = target.payload.replace('"Claims triage"', '"Something harmless"')
    assert forged != target.payload
    with trigger_disabled():
        AuditEvent.objects.filter(pk=target.pk).update(payload=forged)

    message = command_error()
    assert names_row(target) in message
    assert "hash mismatch" in message


def test_edited_mirrored_column_is_detected(chain):
    target = chain[2]
    with trigger_disabled():
        AuditEvent.objects.filter(pk=target.pk).update(action="initiative.viewed")

    message = command_error()
    assert names_row(target) in message
    assert "'action'" in message


def test_edited_column_via_raw_sql_is_detected(chain):
    target = chain[0]
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET object_id = %s WHERE id = %s", ["999", target.pk]
        )
    message = command_error()
    assert names_row(target) in message
    assert "'object_id'" in message


def test_deleted_middle_row_is_detected(chain):
    with trigger_disabled():
        raw_delete(chain[1].pk)

    message = command_error()
    # The first row after the gap is named.
    assert names_row(chain[2]) in message
    assert "expected sequence 2" in message


def test_deleted_newest_row_is_detected(chain):
    with trigger_disabled():
        raw_delete(chain[-1].pk)

    report = verify_audit_chain()
    assert not report.ok
    assert report.checked == 3
    message = command_error()
    # The row is gone, so the message names its sequence number.
    assert "BROKEN at sequence 4" in message
    assert "newest events were deleted" in message


def test_swapped_payloads_are_detected(chain):
    second, third = chain[1], chain[2]
    with trigger_disabled():
        AuditEvent.objects.filter(pk=second.pk).update(payload=third.payload)
        AuditEvent.objects.filter(pk=third.pk).update(payload=second.payload)

    message = command_error()
    assert names_row(second) in message


def test_reordered_rows_are_detected(chain):
    """Swap two whole rows' positions in the sequence: the hash links no longer line up."""
    second, third = chain[1], chain[2]
    with trigger_disabled():
        AuditEvent.objects.filter(pk=second.pk).update(sequence=1000)
        AuditEvent.objects.filter(pk=third.pk).update(sequence=2)
        AuditEvent.objects.filter(pk=second.pk).update(sequence=3)

    message = command_error()
    assert f"AuditEvent id={third.pk} (sequence 2)" in message


# --- The PostgreSQL trigger -----------------------------------------------------------------


@postgres_only
@pytest.mark.postgres
def test_trigger_refuses_update_and_delete(chain):
    target = chain[1]
    # Each attempt runs in a savepoint, so the refused statement does not abort the test.
    with pytest.raises(ProgrammingError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=target.pk).update(action="initiative.viewed")
    with pytest.raises(ProgrammingError, match="append-only: DELETE refused"), transaction.atomic():
        raw_delete(target.pk)
    with (
        pytest.raises(ProgrammingError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_auditevent SET payload = '{}'")

    target.refresh_from_db()
    assert target.action == "initiative.created"
    assert AuditEvent.objects.count() == 4
    assert verify_audit_chain().ok


@postgres_only
@pytest.mark.postgres
def test_superuser_who_disables_the_trigger_is_still_caught(chain):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE core_auditevent SET reason = 'approved by board' WHERE id = %s", [chain[3].pk]
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert names_row(chain[3]) in command_error()


# --- The nightly check ----------------------------------------------------------------------


@pytest.fixture
def administrators(unit_a):
    superuser = UserFactory(username="root", email="root@example.com", is_superuser=True)
    admin = member(Role.ADMIN, unit_a, username="ada", email="ada@example.com")
    MembershipFactory(user=admin, business_unit=unit_a, role=Role.BU_MEMBER)  # two roles
    UserFactory(username="ghost", email="ghost@example.com", is_superuser=True, is_active=False)
    return [superuser, admin]


def test_nightly_task_on_broken_chain_alerts_administrators(
    chain, administrators, member_a, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    with trigger_disabled():
        AuditEvent.objects.filter(pk=chain[2].pk).update(reason="nothing to see")

    with django_capture_on_commit_callbacks(execute=True):
        result = verify_audit_chain_task.delay().get()

    assert result["ok"] is False
    assert names_row(chain[2]) in result["message"]
    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == ["ada@example.com", "root@example.com"]  # not members, not inactive
    for mail in mailoutbox:
        assert mail.subject == "[Keel] Audit chain verification FAILED"
        assert names_row(chain[2]) in mail.body
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "root",
        "ada",
    }
    assert not Notification.objects.filter(recipient=member_a).exists()
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_nightly_task_on_intact_chain_sends_nothing(
    chain, administrators, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = verify_audit_chain_task.delay().get()

    assert result == {
        "ok": True,
        "checked": 4,
        "message": "Audit chain intact: 4 events verified.",
    }
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_nightly_task_is_scheduled_and_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "core.tasks.verify_audit_chain_task" in scheduled
    # The Celery app reads the same schedule from Django settings.
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE

    celery_app.loader.import_default_modules()
    assert "core.tasks.verify_audit_chain_task" in celery_app.tasks
    assert celery_app.tasks["core.tasks.verify_audit_chain_task"].run is (
        verify_audit_chain_task.run
    )
