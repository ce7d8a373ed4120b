"""Governance content as data (issue 19, item 9): the control library edited by CoE admins,
questionnaire drafts with a tier-change preview, publication through the approval engine,
and the library's YAML import/export."""

import json

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.audit import AuditEvent
from core.choices import Role
from governance.approvals import content
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.approvals.selectors import request_queue
from governance.risk import controls, library, library_io
from governance.risk import services as risk_services
from governance.risk.models import (
    Choice,
    Control,
    ControlRequirement,
    ControlResult,
    Question,
    Questionnaire,
)
from tests.factories import InitiativeFactory, member
from tests.governance.helpers import LOW_RISK, TIER_2, assess

pytestmark = pytest.mark.django_db

MANUAL = {
    "code": "doc-09",
    "title": "Decision log kept",
    "description": "Material decisions are logged.",
    "kind": "manual",
    "applies_when": "always",
    "eu_ai_act_article": "Art. 12",
    "nist_function": "govern",
    "iso_42001_clause": "7.5",
    "mitigation_weight": 2,
}
NO_GATES = dict.fromkeys(("intake", "pilot", "production", "scale", "gpu_request"))
NO_GATES["model_release"] = None


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita")


def events(action):
    return AuditEvent.objects.filter(action=action)


def payload(event) -> dict:
    return json.loads(event.payload)


def test_coe_admin_adds_a_control_required_from_a_tier(coe_admin):
    control = library.control_create(
        actor=coe_admin, data=MANUAL, requirements={**NO_GATES, "pilot": 2}
    )
    assert control.code == "DOC-09" and control.is_active
    assert list(control.requirements.values_list("gate", "minimum_tier")) == [("pilot", 2)]
    event = events("control.created").get()
    assert event.actor == coe_admin and payload(event)["after"]["requirements"] == {"pilot": 2}
    assert [r.control.code for r in controls.required_controls(tier=2, gates=["pilot"])].count(
        "DOC-09"
    ) == 1
    assert "DOC-09" not in [
        r.control.code for r in controls.required_controls(tier=1, gates=["pilot"])
    ]


@pytest.mark.parametrize("persona", ["member_a", "coe_reviewer", "risk_officer", "executive"])
def test_only_coe_admins_edit_the_library(request, persona):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        library.control_create(actor=actor, data=MANUAL, requirements=NO_GATES)
    gov = Control.objects.get(code="GOV-01")
    with pytest.raises(PermissionDenied):
        library.control_retire(actor=actor, control=gov, reason="No longer needed here.")
    assert not Control.objects.filter(code="DOC-09").exists()
    assert Control.objects.get(code="GOV-01").is_active
    assert not AuditEvent.objects.filter(action__startswith="control.").exists()


def test_field_level_errors_and_nothing_written(coe_admin):
    with pytest.raises(ValidationError) as caught:
        library.control_create(
            actor=coe_admin,
            data={**MANUAL, "kind": "automated", "title": ""},
            requirements={**NO_GATES, "questionnaire": 2},
        )
    errors = caught.value.message_dict
    assert {"kind", "title", "requirements.questionnaire"} <= set(errors)
    assert not Control.objects.filter(code="DOC-09").exists()


def test_update_changes_applicability_frameworks_and_weight(coe_admin):
    control = Control.objects.get(code="PRIV-01")
    library.control_update(
        actor=coe_admin,
        control=control,
        data={"mitigation_weight": 3, "iso_42001_clause": "A.7.4", "code": "X-1"},
        requirements={**NO_GATES, "production": 3},
    )
    control.refresh_from_db()
    assert control.code == "PRIV-01" and control.mitigation_weight == 3
    assert list(control.requirements.values_list("gate", "minimum_tier")) == [("production", 3)]
    event = events("control.updated").get()
    assert payload(event)["before"]["mitigation_weight"] == 1
    assert payload(event)["after"]["mitigation_weight"] == 3


def test_retired_control_is_no_longer_required_and_its_results_stay(coe_admin, unit_a, member_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    assess(initiative, member_a, LOW_RISK)
    controls.controls_evaluate(initiative=initiative)
    gov = Control.objects.get(code="GOV-01")
    result = ControlResult.objects.get(initiative=initiative, control=gov)
    assert result.is_required
    with pytest.raises(ValidationError) as caught:
        library.control_retire(actor=coe_admin, control=gov, reason="short")
    assert "reason" in caught.value.message_dict
    library.control_retire(actor=coe_admin, control=gov, reason="Owners are checked elsewhere.")
    result.refresh_from_db()
    assert result.status and not result.is_required  # kept, no longer counted
    assert "GOV-01" not in controls.controls_evaluate(initiative=initiative)
    assert "GOV-01" not in [b.code for b in controls.gate_blockers(initiative, "pilot")]
    assert payload(events("control.retired").get())["after"]["results_no_longer_required"] == 1
    library.control_reinstate(actor=coe_admin, control=gov)
    assert controls.controls_evaluate(initiative=initiative)["GOV-01"] == "passing"


def _draft_with_floor(coe_admin, key="confidential", floor=3):
    draft = library.questionnaire_draft(actor=coe_admin)
    choice = Choice.objects.get(question__questionnaire=draft, key=key)
    library.questionnaire_draft_update(
        actor=coe_admin,
        questionnaire=draft,
        title=None,
        questions={},
        choices={choice.pk: {"tier_floor": floor, "reason": "Confidential data is high risk."}},
    )
    return draft


def test_preview_lists_the_assessments_whose_tier_would_change(coe_admin, unit_a, member_a):
    changing = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    staying = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    assess(changing, member_a, TIER_2)  # confidential data: Tier 2 today
    assess(staying, member_a, LOW_RISK)
    draft = _draft_with_floor(coe_admin)
    changes = library.tier_changes(user=coe_admin, questionnaire=draft)
    assert [(c.initiative, c.current_tier, c.draft_tier) for c in changes] == [(changing, 2, 3)]
    # Nothing written: the assessment keeps its version and tier.
    current = changing.risk_assessments.get(is_current=True)
    assert current.computed_tier == 2 and current.questionnaire.is_active


def test_draft_errors_are_keyed_by_row_and_nothing_is_saved(coe_admin):
    draft = library.questionnaire_draft(actor=coe_admin)
    first, second = Choice.objects.filter(question__questionnaire=draft)[:2]
    with pytest.raises(ValidationError) as caught:
        library.questionnaire_draft_update(
            actor=coe_admin,
            questionnaire=draft,
            title=None,
            questions={},
            choices={first.pk: {"weight": 7}, second.pk: {"tier_floor": 9}},
        )
    assert f"c{second.pk}-tier_floor" in caught.value.message_dict
    first.refresh_from_db()
    assert first.weight != 7


def test_one_draft_at_a_time_and_published_versions_never_change(coe_admin):
    draft = library.questionnaire_draft(actor=coe_admin)
    with pytest.raises(ValidationError, match="already being authored"):
        library.questionnaire_draft(actor=coe_admin)
    published = Questionnaire.objects.get(is_active=True)
    choice = Choice.objects.filter(question__questionnaire=published).first()
    with pytest.raises(ValidationError, match="published"):
        library.questionnaire_draft_update(
            actor=coe_admin,
            questionnaire=published,
            title="x",
            questions={},
            choices={choice.pk: {"weight": 50}},
        )
    library.questionnaire_discard(actor=coe_admin, questionnaire=draft)
    assert not Questionnaire.objects.filter(pk=draft.pk).exists()


def test_publication_goes_through_the_approval_engine(coe_admin, risk_officer, unit_a, member_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    old = assess(initiative, member_a, TIER_2)
    draft = _draft_with_floor(coe_admin)
    request = content.questionnaire_publication_submit(actor=coe_admin, questionnaire=draft)
    assert request.initiative is None and request.status == RequestStatus.PENDING
    assert request.reference == f"Questionnaire v{draft.version}"
    # Frozen while pending; a second request is refused.
    with pytest.raises(ValidationError, match="submitted for publication"):
        library.questionnaire_draft_update(
            actor=coe_admin, questionnaire=draft, title="Renamed", questions={}, choices={}
        )
    with pytest.raises(engine.AlreadyDecided):
        content.questionnaire_publication_submit(actor=coe_admin, questionnaire=draft)
    # The submitter never decides; the risk officer's queue shows it.
    assert not engine.can_decide(coe_admin, request)
    assert list(request_queue(user=risk_officer, scope="mine")) == [request]
    engine.request_decide(actor=risk_officer, request=request, outcome="approve")
    draft.refresh_from_db()
    assert draft.is_active and draft.is_published
    assert events("questionnaire.published").get().actor == risk_officer
    old.refresh_from_db()
    assert old.computed_tier == 2 and not old.questionnaire.is_active  # past never changes


def test_only_coe_admins_submit_a_draft(coe_admin, risk_officer):
    draft = library.questionnaire_draft(actor=coe_admin)
    with pytest.raises(PermissionDenied):
        content.questionnaire_publication_submit(actor=risk_officer, questionnaire=draft)


# --- YAML ----------------------------------------------------------------------------------


def _empty_the_library():
    ControlRequirement.objects.all().delete()
    Control.objects.all().delete()
    Choice.objects.all().delete()
    Question.objects.all().delete()
    Questionnaire.objects.all().delete()


def _without_versions(data):
    return {**data, "questionnaire": {**data["questionnaire"], "version": None}}


def test_export_then_import_into_an_empty_library_gives_the_same_content(coe_admin):
    library.control_create(actor=coe_admin, data=MANUAL, requirements={**NO_GATES, "scale": 3})
    library.control_retire(
        actor=coe_admin, control=Control.objects.get(code="DOC-09"), reason="Replaced by DOC-01."
    )
    exported = library_io.library_yaml()
    before = yaml.safe_load(exported)
    _empty_the_library()
    plan = library_io.library_import(actor=coe_admin, text=exported, dry_run=True)
    assert not Control.objects.exists()  # a dry run writes nothing
    assert len(plan.created) == len(before["controls"]) and plan.questionnaire == "draft"
    applied = library_io.library_import(actor=coe_admin, text=exported, dry_run=False)
    after = library_io.library_data(questionnaire=applied.draft)
    assert _without_versions(after) == _without_versions(before)
    assert not Control.objects.get(code="DOC-09").is_active


def test_reimporting_the_same_file_changes_nothing(coe_admin):
    exported = library_io.library_yaml()
    plan = library_io.library_import(actor=coe_admin, text=exported, dry_run=False)
    assert plan.changes == 0 and plan.questionnaire == "unchanged"


def test_import_errors_are_row_level_and_nothing_is_half_written(coe_admin):
    data = library_io.library_data()
    data["controls"].append({**MANUAL, "required": {"pilot": 2}})
    data["controls"].append({**MANUAL, "code": "DOC-10", "kind": "automated"})
    data["controls"][0]["required"] = {"nowhere": 1}
    data["questionnaire"]["questions"][0]["choices"][0]["tier_floor"] = 7
    with pytest.raises(ValidationError) as caught:
        library_io.library_import(actor=coe_admin, text=yaml.safe_dump(data), dry_run=False)
    errors = caught.value.message_dict
    last = len(data["controls"]) - 1
    assert f"controls[{last}].kind" in errors
    assert "controls[0].required.nowhere" in errors
    assert "questionnaire.questions[0].choices[0].tier_floor" in errors
    assert not Control.objects.filter(code__in=["DOC-09", "DOC-10"]).exists()
    assert Questionnaire.objects.count() == 1


def test_import_refuses_python_objects_and_other_files(coe_admin):
    with pytest.raises(ValidationError):
        library_io.library_import(
            actor=coe_admin, text="!!python/object/apply:os.system ['true']", dry_run=True
        )
    with pytest.raises(ValidationError, match="governance library"):
        library_io.library_import(actor=coe_admin, text="a: 1", dry_run=True)


# --- Pages ---------------------------------------------------------------------------------


PAGES = ("governance:control_library", "governance:questionnaire_list", "governance:library_import")


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_for_coe_admins_only(client, coe_admin, member_a, coe_reviewer, name):
    for user, status in ((member_a, 403), (coe_reviewer, 403), (coe_admin, 200)):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == status


def test_adding_a_control_through_the_page_shows_field_errors(client, coe_admin):
    client.force_login(coe_admin)
    url = reverse("governance:control_create")
    form = {**MANUAL, "kind": "automated", "requirement_pilot": "2"}
    response = client.post(url, form)
    assert response.status_code == 200
    assert "no automated evaluator" in response.context["form"].errors["kind"][0]
    response = client.post(url, {**MANUAL, "requirement_pilot": "2"})
    assert response.status_code == 302
    assert Control.objects.get(code="DOC-09").requirements.get().minimum_tier == 2


def test_yaml_export_page_downloads_the_library(client, coe_admin):
    client.force_login(coe_admin)
    response = client.get(reverse("governance:library_export"))
    assert response["Content-Type"] == "application/yaml"
    assert yaml.safe_load(response.content)["format"] == library_io.FORMAT


def _controls(coe_admin, count):
    for index in range(count):
        library.control_create(
            actor=coe_admin,
            data={**MANUAL, "code": f"EXTRA-{index:02d}"},
            requirements={**NO_GATES, "pilot": 2, "scale": 3},
        )


@pytest.mark.parametrize("count", [3, 15])
def test_control_library_query_count_does_not_grow(
    client, coe_admin, django_assert_max_num_queries, count
):
    _controls(coe_admin, count)
    client.force_login(coe_admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("governance:control_library")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("governance:control_library_csv")).status_code == 200


@pytest.mark.parametrize("count", [3, 15])
def test_questionnaire_pages_query_count_does_not_grow(
    client, coe_admin, unit_a, member_a, django_assert_max_num_queries, count
):
    for _ in range(count):
        assess(
            InitiativeFactory(business_unit=unit_a, accountable_owner=member_a), member_a, TIER_2
        )
        # One more published version per row too, so the versions list grows with ``count``.
        risk_services.questionnaire_publish(
            actor=coe_admin, questionnaire=library.questionnaire_draft(actor=coe_admin)
        )
    draft = _draft_with_floor(coe_admin)
    client.force_login(coe_admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("governance:questionnaire_list")).status_code == 200
    with django_assert_max_num_queries(20):
        response = client.get(reverse("governance:questionnaire_detail", args=[draft.pk]))
    assert len(response.context["changes"]) == count


def test_control_library_is_paginated_and_its_export_has_every_row(client, coe_admin, settings):
    settings.KEEL_PAGE_SIZE = 5
    _controls(coe_admin, 6)
    total = Control.objects.count()
    client.force_login(coe_admin)
    first = client.get(reverse("governance:control_library"))
    assert len(first.context["rows"]) == 5
    assert first.context["page_obj"].paginator.count == total
    last = client.get(reverse("governance:control_library"), {"page": 99}, HTTP_HX_REQUEST="true")
    assert b"<html" not in last.content  # an htmx page swap gets the results partial only
    exported = b"".join(client.get(reverse("governance:control_library_csv")).streaming_content)
    assert exported.decode().count("\n") == total + 1


def test_control_library_filters_page_and_export_alike(client, coe_admin):
    """The filter bar narrows the page and its export to the same controls; filtering by a
    gate joins the requirements without multiplying a control's result count."""
    _controls(coe_admin, 2)  # EXTRA-00/01: required at pilot and scale
    library.control_create(
        actor=coe_admin,
        data={**MANUAL, "code": "ONLY-PROD", "title": "Only production"},
        requirements={**NO_GATES, "production": 1},
    )
    client.force_login(coe_admin)
    page = client.get(reverse("governance:control_library"), {"q": "EXTRA", "gate": "pilot"})
    codes = [control.code for control in page.context["rows"]]
    assert codes == ["EXTRA-00", "EXTRA-01"]
    assert all(control.result_count == 0 for control in page.context["rows"])
    exported = b"".join(
        client.get(
            reverse("governance:control_library_csv"), {"q": "EXTRA", "gate": "pilot"}
        ).streaming_content
    ).decode()
    assert "EXTRA-00" in exported and "EXTRA-01" in exported and "ONLY-PROD" not in exported
    retired = client.get(reverse("governance:control_library"), {"q": "ONLY-PROD", "gate": "pilot"})
    assert list(retired.context["rows"]) == []
    assert b"No control matches these filters." in retired.content
