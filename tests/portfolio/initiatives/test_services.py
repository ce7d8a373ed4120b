import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from portfolio.initiatives import services
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative, StageChange
from tests.portfolio.helpers import approved_gate_request

pytestmark = pytest.mark.django_db


def initiative_data(unit, owner, **overrides):
    return {
        "title": "Claims triage",
        "business_unit": unit,
        "accountable_owner": owner,
        **overrides,
    }


def test_create_assigns_sequential_reference_and_audits(member_a, unit_a):
    first = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    second = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))

    assert (first.reference, second.reference) == ("AI-0001", "AI-0002")
    assert first.stage == Stage.DRAFT
    event = AuditEvent.objects.get(action="initiative.created", object_id=str(first.pk))
    assert event.actor == member_a
    assert '"title":"Claims triage"' in event.payload
    assert StageChange.objects.filter(initiative=first, to_stage=Stage.DRAFT).exists()


def test_member_cannot_create_for_another_unit_and_nothing_is_written(member_a, unit_b):
    with pytest.raises(PermissionDenied):
        services.initiative_create(actor=member_a, data=initiative_data(unit_b, member_a))
    assert not Initiative.objects.exists()
    assert not AuditEvent.objects.exists()


def test_create_reports_field_errors(member_a, unit_a):
    with pytest.raises(ValidationError) as caught:
        services.initiative_create(
            actor=member_a, data=initiative_data(unit_a, member_a, title="", roadmap_phase=7)
        )
    assert set(caught.value.error_dict) >= {"title", "roadmap_phase"}
    assert not AuditEvent.objects.exists()


def test_update_records_only_changed_fields(member_a, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    services.initiative_update(
        actor=member_a, initiative=initiative, data={"title": "Claims triage v2", "uses_pii": False}
    )
    event = AuditEvent.objects.get(action="initiative.updated")
    assert '"before":{"title":"Claims triage"}' in event.payload
    assert '"after":{"title":"Claims triage v2"}' in event.payload


def test_other_unit_member_cannot_update(member_a, member_b, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    count = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.initiative_update(actor=member_b, initiative=initiative, data={"title": "Hijack"})
    initiative.refresh_from_db()
    assert initiative.title == "Claims triage"
    assert AuditEvent.objects.count() == count


def test_stage_change_follows_transition_table_and_needs_gate(member_a, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    initiative = services.initiative_change_stage(
        actor=member_a, initiative=initiative, to_stage=Stage.PROPOSED
    )
    assert initiative.stage == Stage.PROPOSED

    with pytest.raises(ValidationError, match="gate"):
        services.initiative_change_stage(
            actor=member_a, initiative=initiative, to_stage=Stage.PILOT
        )
    with pytest.raises(ValidationError, match="cannot move"):
        services.initiative_change_stage(
            actor=member_a, initiative=initiative, to_stage=Stage.SCALED
        )
    with pytest.raises(ValidationError, match="reason"):
        services.initiative_change_stage(
            actor=member_a, initiative=initiative, to_stage=Stage.RETIRED
        )

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSED
    assert AuditEvent.objects.filter(action="initiative.stage_changed").count() == 1


def test_gate_moves_initiative_to_pilot_and_dates_it(member_a, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    services.initiative_change_stage(actor=member_a, initiative=initiative, to_stage=Stage.PROPOSED)
    approved_request = approved_gate_request(initiative, Stage.PILOT)
    initiative = services.initiative_change_stage(
        actor=member_a, initiative=initiative, to_stage=Stage.PILOT, via_gate=approved_request
    )
    assert initiative.stage == Stage.PILOT
    assert initiative.pilot_started_on is not None
    assert list(initiative.stage_changes.values_list("to_stage", flat=True)) == [
        Stage.DRAFT,
        Stage.PROPOSED,
        Stage.PILOT,
    ]


def not_authorising_pilot(initiative, other):
    """Stand-ins for gate requests that do not authorise ``initiative``'s move to pilot."""
    return {
        "no request": object(),
        "pending": approved_gate_request(initiative, Stage.PILOT, status="pending"),
        "rejected": approved_gate_request(initiative, Stage.PILOT, status="rejected"),
        "another initiative's": approved_gate_request(other, Stage.PILOT),
        "another gate's": approved_gate_request(initiative, Stage.PRODUCTION),
        "about a deployment": approved_gate_request(
            initiative, Stage.PILOT, subject_type="portfolio.deployment", subject_id="1"
        ),
    }


def test_a_gate_request_that_does_not_authorise_the_move_is_refused(member_a, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    services.initiative_change_stage(actor=member_a, initiative=initiative, to_stage=Stage.PROPOSED)
    other = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    events = AuditEvent.objects.count()
    for name, via_gate in not_authorising_pilot(initiative, other).items():
        with pytest.raises(ValidationError, match="not an approved 'pilot' gate request"):
            services.initiative_change_stage(
                actor=member_a, initiative=initiative, to_stage=Stage.PILOT, via_gate=via_gate
            )
        initiative.refresh_from_db()
        assert (initiative.stage, initiative.pilot_started_on) == (Stage.PROPOSED, None), name
    assert not initiative.stage_changes.filter(to_stage=Stage.PILOT).exists()
    assert AuditEvent.objects.count() == events


def test_a_gate_request_does_not_stand_in_for_permission_unless_it_authorises(
    member_a, member_b, unit_a
):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    services.initiative_change_stage(actor=member_a, initiative=initiative, to_stage=Stage.PROPOSED)
    # An approval applies its gate whoever the approver is; a forged one does not.
    with pytest.raises(ValidationError):
        services.initiative_change_stage(
            actor=member_b,
            initiative=initiative,
            to_stage=Stage.PILOT,
            via_gate=approved_gate_request(initiative, Stage.PILOT, status="pending"),
        )
    moved = services.initiative_change_stage(
        actor=member_b,
        initiative=initiative,
        to_stage=Stage.PILOT,
        via_gate=approved_gate_request(initiative, Stage.PILOT),
    )
    assert moved.stage == Stage.PILOT


def test_links_must_be_web_addresses(member_a, unit_a):
    with pytest.raises(ValidationError) as caught:
        services.initiative_create(
            actor=member_a,
            data=initiative_data(
                unit_a, member_a, links="https://git.example.com/x\njavascript:alert(1)"
            ),
        )
    assert "javascript:alert(1)" in caught.value.message_dict["links"][0]


def test_stage_cannot_change_through_save(member_a, unit_a):
    initiative = services.initiative_create(actor=member_a, data=initiative_data(unit_a, member_a))
    loaded = Initiative.objects.get(pk=initiative.pk)
    loaded.stage = Stage.PRODUCTION
    with pytest.raises(ValidationError, match="initiative_change_stage"):
        loaded.save()
    loaded.refresh_from_db()
    assert loaded.stage == Stage.DRAFT
    loaded.title = "Renamed"
    loaded.save()  # other fields still save
    changed = services.initiative_change_stage(
        actor=member_a, initiative=loaded, to_stage=Stage.PROPOSED
    )
    changed.title = "Renamed again"
    changed.save()  # a fresh stage read through the service does not trip the guard
