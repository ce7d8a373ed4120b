"""Incident services: workflow, reports stopping their clock, corrective actions, the
reassessment control, pausing an initiative, the deadline sweep (once, also concurrently)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from core.models import AuditEvent, Notification
from governance.incidents import services
from governance.incidents.models import Incident, IncidentReport, ReportingRegime
from governance.risk.controls import controls_evaluate
from tests.concurrency import run_at_once
from tests.factories import member
from tests.governance.helpers import TIER_3, assess
from tests.governance.incidents.helpers import (
    at,
    high_risk_provider,
    report,
    risk_officer,
    triaged,
)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and threads need PostgreSQL"
)


@pytest.fixture(autouse=True)
def amsterdam(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"


def events(action):
    return AuditEvent.objects.filter(action=action)


def test_reporting_is_audited_and_numbered(unit_a, member_a):
    initiative = high_risk_provider(unit_a, member_a)
    first = report(member_a, [initiative])
    second = report(member_a, [initiative])
    assert (first.reference, second.reference) == ("INC-0001", "INC-0002")
    assert first.reporter == member_a
    assert events("incident.reported").count() == 2


def test_a_member_cannot_report_for_an_initiative_out_of_scope(unit_a, unit_b, member_b):
    initiative = high_risk_provider(unit_a, member(username="owner-a", business_unit=unit_a))
    with pytest.raises(ValidationError) as error:
        report(member_b, [initiative])
    assert "initiatives" in error.value.message_dict
    assert not Incident.objects.exists()


def test_transitions_follow_the_table_and_are_audited(unit_a, coe_admin):
    incident = report(coe_admin, [high_risk_provider(unit_a, coe_admin)])
    with pytest.raises(ValidationError):
        services.incident_transition(actor=coe_admin, incident=incident, to_status="mitigated")
    incident = services.incident_transition(actor=coe_admin, incident=incident, to_status="triaged")
    assert incident.triaged_at is not None
    event = events("incident.transitioned").get()
    assert event.object_id == str(incident.pk)


def test_a_member_cannot_triage(unit_a, member_a):
    incident = report(member_a, [high_risk_provider(unit_a, member_a)])
    with pytest.raises(PermissionDenied):
        services.incident_transition(actor=member_a, incident=incident, to_status="triaged")
    incident.refresh_from_db()
    assert incident.status == "reported"
    assert not events("incident.transitioned").exists()


def test_the_owner_may_move_their_incident(unit_a, member_a):
    incident = report(member_a, [high_risk_provider(unit_a, member_a)], owner=member_a)
    services.incident_transition(actor=member_a, incident=incident, to_status="triaged")


def test_a_stale_status_change_is_refused_by_the_compare_and_set(unit_a, coe_admin):
    incident = report(coe_admin, [high_risk_provider(unit_a, coe_admin)])
    stale = Incident.objects.get(pk=incident.pk)
    services.incident_transition(actor=coe_admin, incident=incident, to_status="triaged")
    # The stale copy says "reported", but the service reads the locked row.
    with pytest.raises(ValidationError):
        services.incident_transition(actor=coe_admin, incident=stale, to_status="triaged")


def test_a_recorded_report_stops_its_clock_and_a_missed_one_stays_missed(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 24, 13, 0), tick=False):
        incident = triaged(
            coe_admin,
            [initiative],
            category="privacy",
            personal_data_breach=True,
            became_aware_at=at(2026, 10, 24, 12),
        )
        gdpr = incident.reports.get(regime__code="gdpr-art-33")
        assert gdpr.state() == "due"
        services.incident_report_record(
            actor=coe_admin,
            report=gdpr,
            submitted_to="Autoriteit Persoonsgegevens",
            reference="AP-7",
        )
    gdpr.refresh_from_db()
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        assert gdpr.state() == "submitted"
        assert gdpr.submitted_reference == "AP-7"
        assert events("incident.report_recorded").count() == 1
        with pytest.raises(ValidationError):
            services.incident_report_record(actor=coe_admin, report=gdpr)
    with time_machine.travel(at(2026, 10, 24, 13, 0), tick=False):
        late = triaged(
            coe_admin,
            [initiative],
            category="privacy",
            personal_data_breach=True,
            became_aware_at=at(2026, 10, 24, 12),
        ).reports.get()
    with time_machine.travel(at(2026, 10, 28, 9, 0), tick=False):
        assert late.state() == "missed"
        services.incident_report_record(actor=coe_admin, report=late)
        late.refresh_from_db()
        assert late.state() == "submitted_late"


def test_closing_needs_every_action_done_or_waived_by_a_risk_officer(unit_a, coe_admin):
    officer = risk_officer(unit_a)
    incident = triaged(coe_admin, [high_risk_provider(unit_a, coe_admin)])
    first = services.action_add(
        actor=coe_admin,
        incident=incident,
        data={"title": "Retrain", "owner": coe_admin, "due_on": datetime.date(2026, 12, 1)},
    )
    second = services.action_add(
        actor=coe_admin,
        incident=incident,
        data={
            "title": "Notify customers",
            "owner": coe_admin,
            "due_on": datetime.date(2026, 12, 1),
        },
    )
    with pytest.raises(ValidationError) as error:
        services.incident_transition(actor=coe_admin, incident=incident, to_status="closed")
    assert "corrective action" in str(error.value)
    services.action_complete(actor=coe_admin, action=first)
    with pytest.raises(PermissionDenied):
        services.action_waive(
            actor=coe_admin, action=second, reason="Customers were told by phone."
        )
    with pytest.raises(ValidationError):
        services.action_waive(actor=officer, action=second, reason="short")
    services.action_waive(actor=officer, action=second, reason="Customers were told by phone.")
    closed = services.incident_transition(actor=coe_admin, incident=incident, to_status="closed")
    assert closed.status == "closed" and closed.closed_at is not None
    assert events("incident.action_waived").get().reason == "Customers were told by phone."


def test_a_serious_incident_fails_inc_01_until_a_reassessment(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    assert controls_evaluate(initiative=initiative)["INC-01"] == "passing"
    report(coe_admin, [initiative], severity="sev4", category="other")
    assert controls_evaluate(initiative=initiative)["INC-01"] == "passing"
    serious = report(coe_admin, [initiative], category="serious_rights", severity="sev3")
    assert controls_evaluate(initiative=initiative)["INC-01"] == "failing"
    assert serious.reference in initiative.control_results.get(control__code="INC-01").detail
    assess(initiative, coe_admin, TIER_3)
    assert controls_evaluate(initiative=initiative)["INC-01"] == "passing"
    report(coe_admin, [initiative], severity="sev2")
    assert controls_evaluate(initiative=initiative)["INC-01"] == "failing"


def test_the_risk_function_pauses_an_initiative_from_the_incident(unit_a, member_a, coe_admin):
    officer = risk_officer(unit_a)
    initiative = high_risk_provider(unit_a, member_a)
    incident = report(member_a, [initiative], severity="sev1")
    with pytest.raises(PermissionDenied):
        services.incident_pause_initiative(
            actor=coe_admin, incident=incident, initiative=initiative, reason="Stop the harm now."
        )
    services.incident_pause_initiative(
        actor=officer, incident=incident, initiative=initiative, reason="Stop the harm now."
    )
    initiative.refresh_from_db()
    assert initiative.stage == "paused"
    change = initiative.stage_changes.get(to_stage="paused")
    assert change.reason == f"{incident.reference}: Stop the harm now."
    assert events("incident.initiative_paused").count() == 1
    # The stage rules still apply: a paused initiative cannot be paused again.
    with pytest.raises(ValidationError):
        services.incident_pause_initiative(
            actor=officer, incident=incident, initiative=initiative, reason="Stop the harm now."
        )


def _gdpr_incident(coe_admin, unit_a):
    owner = member(username="olga", business_unit=unit_a)
    with time_machine.travel(at(2026, 10, 24, 13, 0), tick=False):
        return triaged(
            coe_admin,
            [high_risk_provider(unit_a, coe_admin)],
            category="privacy",
            personal_data_breach=True,
            owner=owner,
            became_aware_at=at(2026, 10, 24, 12),
        )


def test_the_sweep_warns_the_owner_then_escalates_to_risk_once(unit_a, coe_admin):
    officer = risk_officer(unit_a)
    incident = _gdpr_incident(coe_admin, unit_a)
    # Due 27 Oct 11:00; GDPR warns 24 h before and escalates 8 h before.
    with time_machine.travel(at(2026, 10, 25, 9, 0), tick=False):
        assert services.deadlines_sweep() == {"warned": 0, "escalated": 0}
    with time_machine.travel(at(2026, 10, 26, 12, 0), tick=False):
        assert services.deadlines_sweep() == {"warned": 1, "escalated": 0}
        assert services.deadlines_sweep() == {"warned": 0, "escalated": 0}
    with time_machine.travel(at(2026, 10, 27, 4, 0), tick=False):
        assert services.deadlines_sweep() == {"warned": 0, "escalated": 1}
        assert services.deadlines_sweep() == {"warned": 0, "escalated": 0}
    assert Notification.objects.filter(recipient=incident.owner).count() == 1
    assert Notification.objects.filter(recipient=officer).count() == 1
    assert events("incident.deadline_warned").count() == 1
    assert events("incident.deadline_escalated").count() == 1


def test_an_empty_regime_table_gets_the_defaults_at_triage(unit_a, coe_admin):
    # A database whose regimes were never installed, or were flushed (a transactional test
    # empties every table, data-migration rows included): triage still finds GDPR Art. 33.
    ReportingRegime.objects.all().delete()
    incident = _gdpr_incident(coe_admin, unit_a)
    assert [r.regime.code for r in incident.reports.select_related("regime")] == ["gdpr-art-33"]
    assert ReportingRegime.objects.count() > 1


def test_deactivated_regimes_are_not_reinstalled(unit_a, coe_admin):
    ReportingRegime.objects.update(is_active=False)
    incident = _gdpr_incident(coe_admin, unit_a)
    assert not incident.reports.exists()
    assert not ReportingRegime.objects.filter(is_active=True).exists()


def test_a_submitted_report_is_not_swept(unit_a, coe_admin):
    risk_officer(unit_a)
    incident = _gdpr_incident(coe_admin, unit_a)
    with time_machine.travel(at(2026, 10, 24, 14, 0), tick=False):
        services.incident_report_record(actor=coe_admin, report=incident.reports.get())
    with time_machine.travel(at(2026, 10, 28, 12, 0), tick=False):
        assert services.deadlines_sweep() == {"warned": 0, "escalated": 0}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_each_message_once(unit_a, coe_admin):
    officer = risk_officer(unit_a)
    incident = _gdpr_incident(coe_admin, unit_a)
    # Past the escalation point: both markers are due at once in both sweeps.
    with time_machine.travel(at(2026, 10, 27, 9, 0), tick=False):
        results = run_at_once(2, lambda i: services.deadlines_sweep())
    assert all(kind == "ok" for kind, _ in results), results
    totals = [value for _, value in results]
    assert sum(t["warned"] for t in totals) == 1
    assert sum(t["escalated"] for t in totals) == 1
    assert Notification.objects.filter(recipient=incident.owner).count() == 1
    assert Notification.objects.filter(recipient=officer).count() == 1
    report_row = IncidentReport.objects.get(incident=incident)
    assert report_row.warned_at is not None and report_row.escalated_at is not None


def test_the_art_73_draft_is_queued_after_commit_and_built_as_a_pdf(
    unit_a, coe_admin, settings, tmp_path, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    settings.KEEL_PRIVATE_STORAGE = tmp_path / "private"
    initiative = high_risk_provider(unit_a, coe_admin)
    with time_machine.travel(at(2026, 10, 21, 9, 0), tick=False):
        incident = triaged(
            coe_admin,
            [initiative],
            category="serious_rights",
            became_aware_at=at(2026, 10, 20, 12),
            immediate_actions="Model switched to manual review.",
        )
    with django_capture_on_commit_callbacks() as callbacks:
        incident = services.incident_draft_request(actor=coe_admin, incident=incident)
    assert incident.draft_status == "queued" and len(callbacks) == 1
    assert services.incident_draft_build(incident.pk) == "ready"
    incident.refresh_from_db()
    with incident.draft_file.open("rb") as handle:
        pdf = PdfReader(io.BytesIO(handle.read()))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert incident.reference in text
    assert "20 Oct 2026 12:00" in text
    assert "Model switched to manual review." in text
