"""The vendor control VEN-01 reads the vendor register: a vendor serving the initiative whose
due diligence is not approved fails it; evidence is reviewed again once the vendors are done,
and a waiver stands."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.choices import Role
from governance.risk import controls, services
from governance.risk.choices import ResultStatus
from governance.risk.models import Control, ControlResult
from inventory.registry.choices import DiligenceStatus
from tests.factories import AIModelFactory, InitiativeFactory, VendorFactory, member
from tests.governance.helpers import assess

pytestmark = pytest.mark.django_db


@pytest.fixture
def initiative(unit_a, member_a):
    initiative = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, stage="proposed", sourcing="vendor"
    )
    assess(initiative, member_a, third_party_model="yes")
    return initiative


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita")


def serve(initiative, unit, vendor):
    model = AIModelFactory(business_unit=unit, vendor=vendor)
    model.initiatives.add(initiative)
    return model


def ven_blocker(initiative):
    blockers = {blocker.code: blocker for blocker in controls.gate_blockers(initiative, "pilot")}
    return blockers.get("VEN-01")


def test_a_vendor_without_completed_due_diligence_fails_the_control(initiative, unit_a):
    done = VendorFactory(name="Acme AI", due_diligence_status=DiligenceStatus.APPROVED)
    serve(initiative, unit_a, done)
    # Approved vendors only: the manual control awaits its evidence as before.
    assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.PENDING

    for status in (
        DiligenceStatus.NOT_STARTED,
        DiligenceStatus.IN_PROGRESS,
        DiligenceStatus.REJECTED,
    ):
        late = VendorFactory(name="Late Models", due_diligence_status=status)
        late.due_diligence_status = status
        late.save()
        serve(initiative, unit_a, late)
        assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.FAILING
        result = ControlResult.objects.get(initiative=initiative, control__code="VEN-01")
        label = DiligenceStatus(status).label.lower()
        assert result.detail == f"Vendor due diligence not complete: Late Models ({label})."
        assert "Acme AI" not in result.detail
        assert "Late Models" in ven_blocker(initiative).reason


def test_approved_with_conditions_counts_as_done(initiative, unit_a):
    serve(initiative, unit_a, VendorFactory(due_diligence_status=DiligenceStatus.CONDITIONAL))
    assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.PENDING


def test_reviewed_evidence_does_not_hide_a_vendor_in_progress_and_is_reviewed_again(
    initiative, unit_a, member_a, coe_reviewer, settings, tmp_path
):
    settings.KEEL_PRIVATE_STORAGE = tmp_path
    vendor = VendorFactory(due_diligence_status=DiligenceStatus.IN_PROGRESS)
    serve(initiative, unit_a, vendor)
    control = Control.objects.get(code="VEN-01")
    result = controls.control_evidence_submit(
        actor=member_a,
        initiative=initiative,
        control=control,
        evidence_file=SimpleUploadedFile("dd.pdf", b"%PDF-1.7\n", "application/pdf"),
    )
    controls.control_review(actor=coe_reviewer, result=result, status="passing")
    assert ven_blocker(initiative) is not None  # the register still says in progress
    assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.FAILING

    vendor.due_diligence_status = DiligenceStatus.APPROVED
    vendor.save()
    assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.PENDING
    result.refresh_from_db()
    controls.control_review(actor=coe_reviewer, result=result, status="passing")
    assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.PASSING
    assert ven_blocker(initiative) is None


def test_a_waiver_stands_over_the_register(initiative, unit_a, risk_officer):
    serve(initiative, unit_a, VendorFactory(due_diligence_status=DiligenceStatus.NOT_STARTED))
    controls.control_waive(
        actor=risk_officer,
        initiative=initiative,
        control=Control.objects.get(code="VEN-01"),
        expires_on=timezone.localdate() + datetime.timedelta(days=30),
        reason="Due diligence scheduled with procurement next month.",
    )
    assert services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.WAIVED
    assert ven_blocker(initiative) is None


def test_in_house_initiatives_ignore_the_register(unit_a, member_a):
    initiative = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, stage="proposed", sourcing="in_house"
    )
    assess(initiative, member_a, third_party_model="no")
    serve(initiative, unit_a, VendorFactory(due_diligence_status=DiligenceStatus.NOT_STARTED))
    assert (
        services.controls_evaluate(initiative=initiative)["VEN-01"] == ResultStatus.NOT_APPLICABLE
    )


def test_a_vendor_status_change_reevaluates_the_stored_results_of_the_initiatives_it_serves(
    initiative, unit_a, unit_b, member_b, coe_reviewer, django_capture_on_commit_callbacks
):
    from inventory.registry.services import vendor_update

    vendor = VendorFactory(name="Late Models", due_diligence_status=DiligenceStatus.IN_PROGRESS)
    serve(initiative, unit_a, vendor)
    # Another vendor's initiative is not touched by this vendor's change.
    other = InitiativeFactory(business_unit=unit_b, accountable_owner=member_b, stage="proposed")
    assess(other, member_b, third_party_model="yes")
    serve(other, unit_b, VendorFactory(due_diligence_status=DiligenceStatus.IN_PROGRESS))
    services.controls_evaluate(initiative=initiative)
    services.controls_evaluate(initiative=other)

    def stored(subject):
        return ControlResult.objects.get(initiative=subject, control__code="VEN-01")

    assert stored(initiative).status == ResultStatus.FAILING

    # Done: the stored result is evaluated again after commit, without anyone asking.
    with django_capture_on_commit_callbacks(execute=True):
        vendor_update(
            actor=coe_reviewer,
            vendor=vendor,
            data={"due_diligence_status": DiligenceStatus.APPROVED},
        )
    assert stored(initiative).status == ResultStatus.PENDING
    assert stored(other).status == ResultStatus.FAILING

    # And back: a rejected vendor fails it again at once.
    with django_capture_on_commit_callbacks(execute=True):
        vendor_update(
            actor=coe_reviewer,
            vendor=vendor,
            data={"due_diligence_status": DiligenceStatus.REJECTED},
        )
    assert stored(initiative).status == ResultStatus.FAILING
    assert "Late Models (rejected)" in stored(initiative).detail


def test_a_vendor_change_that_keeps_the_status_schedules_nothing(
    initiative, unit_a, coe_reviewer, django_capture_on_commit_callbacks
):
    from inventory.registry.services import vendor_update

    vendor = VendorFactory(due_diligence_status=DiligenceStatus.APPROVED)
    serve(initiative, unit_a, vendor)
    with django_capture_on_commit_callbacks() as callbacks:
        vendor_update(actor=coe_reviewer, vendor=vendor, data={"website": "https://example.com"})
    assert callbacks == []
    assert controls.schedule_vendor_controls_evaluation(vendor.pk) == 1
