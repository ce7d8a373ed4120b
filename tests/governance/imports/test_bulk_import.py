"""The bulk inventory import (issue 8): reader, field parsers, presets, the engine and the
service layer, on hand-made messy files (tests/governance/fixtures/import/)."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.http import Http404
from django.test import TestCase

from core.audit import verify_audit_chain
from core.choices import Role
from core.models import AuditEvent, BusinessUnit, Sequence
from governance.imports import apply, engine, fields, presets, reader
from governance.imports import federal as fed
from governance.imports import services as imports
from governance.imports.choices import ImportStatus
from governance.imports.models import ImportJob, ImportPreset
from governance.risk.models import RiskAssessment
from governance.risk.selectors import current_tier
from inventory.registry.models import AIModel
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from tests.factories import InitiativeFactory, UserFactory, member

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def alice(unit_a):
    user = member(Role.BU_MEMBER, unit_a, username="alice")
    user.email, user.first_name, user.last_name = "alice@example.com", "Alice", "Example"
    user.save()
    return user


@pytest.fixture
def lead_a(unit_a):
    return member(Role.BU_LEAD, unit_a, username="lena")


def preview_file(actor, name, preset="keel", mapping=None, **options):
    job = imports.import_job_create(
        actor=actor, filename=name, content=fixture(name), preset=preset
    )
    report = imports.import_job_preview(
        actor=actor, job=job, mapping=mapping or job.mapping, options=options
    )
    return job, report


def run(actor, job):
    """Confirm; the task is enqueued on commit and Celery runs eagerly in tests."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        imports.import_job_confirm(actor=actor, job=job)
    job.refresh_from_db()
    return job


# --- reader -------------------------------------------------------------------------------


def test_reader_windows_1252_multiline_empty_rows_and_line_numbers():
    table = reader.read_table("messy.csv", fixture("messy_windows1252.csv"))
    assert table.headers[:2] == ["Use case ID", "Name"]
    lines = [line for line, _ in table.rows]
    # the record on line 2 spans lines 2-3; line 5 and the last one are empty
    assert lines == [2, 4, 6, 7, 8, 9, 10]
    first = table.rows[0][1]
    assert first[1] == "\u201cSmart\u201d claims triage"  # curly quotes survive, spaces folded
    assert first[6] == "Sorts claims by urgency"


def test_reader_bom_semicolons():
    table = reader.read_table("bom.csv", fixture("bom_utf8.csv"))
    assert table.headers[0] == "External ID"  # no BOM glued to the first header
    assert table.rows[0][1][1] == "Caf\u00e9 demand forecast"


def test_reader_xlsx_dates_and_numbers():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Title", "Business unit", "Initiated on", "Expected annual value"])
    sheet.append([None, None, None, None])
    sheet.append(["Line\nbreak", "RETAIL", datetime.datetime(2023, 10, 1), 1200.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = reader.read_table("book.xlsx", buffer.getvalue())
    assert table.rows == [(3, ["Line break", "RETAIL", "2023-10-01", "1200"])]


def test_reader_repeated_and_blank_headers():
    table = reader.read_table("r.csv", b"Name,Name,,Tags\nA,B,C,D\n")
    assert table.headers == ["Name", "Name (2)", "Column 3", "Tags"]


@pytest.mark.parametrize("content", [b"", b"   \n", b"Title,Business unit\n"])
def test_reader_refuses_empty_files(content):
    with pytest.raises(ValidationError) as error:
        reader.read_table("x.csv", content)
    assert "file" in error.value.message_dict


def test_reader_refuses_a_broken_xlsx():
    with pytest.raises(ValidationError) as error:
        reader.read_table("x.xlsx", b"PK\x03\x04 not really a zip")
    assert "cannot be opened" in error.value.message_dict["file"][0]


# --- field parsers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10/1/2023", datetime.date(2023, 10, 1)),
        ("2023-10-01", datetime.date(2023, 10, 1)),
        ("Oct 2023", datetime.date(2023, 10, 1)),
        ("October 2023", datetime.date(2023, 10, 1)),
        ("1 Oct 2023", datetime.date(2023, 10, 1)),
        ("2023-10-01 00:00:00", datetime.date(2023, 10, 1)),
    ],
)
def test_dates_in_several_formats(text, expected):
    assert fields.parse_date(text) == expected


@pytest.mark.parametrize(
    "text, reason",
    [
        ("31/12/2023", "month/day/year"),
        ("1/2/23", "ambiguous"),
        ("2023", "ambiguous"),
        ("soon", "not a date"),
        ("2023-02-30", "not a valid date"),
    ],
)
def test_bad_dates_are_rejected_with_the_reason(text, reason):
    with pytest.raises(fields.FieldError, match=reason):
        fields.parse_date(text)


@pytest.mark.parametrize(
    "text, stage",
    [
        ("Operation and Maintenance", "production"),
        ("in production", "production"),
        ("Acquisition and/or Development", "pilot"),
        ("Implementation and Assessment", "pilot"),
        ("Initiated", "proposed"),
        ("PLANNED", "proposed"),
        ("Ideation", "proposed"),
        ("Retired", "retired"),
        ("scaled", "scaled"),
        (" Draft ", "draft"),
    ],
)
def test_stage_synonyms(text, stage):
    assert BY_STAGE(text) == stage


def BY_STAGE(text):
    return fields.BY_NAME["stage"].parse(text)


def test_unknown_stage_names_the_value():
    with pytest.raises(fields.FieldError, match="unknown stage 'Sort of live'"):
        BY_STAGE("Sort of live")


def test_sourcing_impact_and_yes_no():
    sourcing = fields.BY_NAME["sourcing"].parse
    assert sourcing("Developed with contracting resources") == "vendor"
    assert sourcing("Developed in-house") == "in_house"
    assert sourcing("Developed in-house and with contracting resources") == "both"
    assert fields.parse_impact("Rights-Impacting") == ("rights_impacting",)
    assert fields.parse_impact("both") == ("rights_impacting", "safety_impacting")
    assert fields.parse_impact("Neither") == ()
    assert fields.parse_yes_no("Yes") is True and fields.parse_yes_no("n") is False
    assert fields.parse_category("Health & Medical") == "other"
    assert fields.parse_category("Pattern recognition") == "pattern_recognition"


# --- presets ------------------------------------------------------------------------------


# Suggestions include the custom fields defined for initiatives (a query, issue 20).
@pytest.mark.django_db
def test_suggest_mapping_exact_normalised_and_synonyms():
    keel = presets.get_preset("keel")
    mapping = presets.suggest_mapping(
        ["Name", "Department", "owner", "STAGE OF DEVELOPMENT", "external-id", "Notes"], keel
    )
    assert mapping == {
        "Name": "title",
        "Department": "business_unit",
        "owner": "accountable_owner",
        "STAGE OF DEVELOPMENT": "stage",
        "external-id": "external_id",
        "Notes": "",
    }
    federal_mapping = presets.suggest_mapping(list(fed.COLUMNS), presets.get_preset(fed_name()))
    assert federal_mapping[fed.AGENCY] == "business_unit"
    assert federal_mapping[fed.BUREAU] == "child_business_unit"
    assert federal_mapping[fed.IMPACT] == "impact"


def fed_name():
    return presets.US_FEDERAL


# --- the messy file -----------------------------------------------------------------------


def test_messy_file_imports_valid_rows_and_reports_each_bad_row(coe_admin, alice, unit_b):
    job, report = preview_file(coe_admin, "messy_windows1252.csv")
    assert job.mapping["Name"] == "title" and job.mapping["Use case ID"] == "external_id"
    # a date Keel cannot read in an optional column is unknown with a warning (line 9),
    # not a rejected row
    assert report["counts"] == {"create": 4, "update": 0, "skip": 1, "reject": 2}
    assert report["rejected"] == [
        {"line": 8, "reason": "unknown stage 'Sort of live'"},
        {
            "line": 10,
            "reason": "unknown business unit 'ATLANTIS' (allow creating missing units to "
            "create it)",
        },
    ]
    skipped = [row for row in report["rows"] if row["action"] == "skip"]
    assert skipped == [
        {
            "line": 7,
            "action": "skip",
            "reference": "",
            "title": "Chatbot \u2013 FAQ",
            "reason": "duplicate of line 6",
            "changes": [],
        }
    ]
    assert report["warnings"] == [
        {
            "line": 4,
            "message": "'Jane Unknown' is not a Keel user: a placeholder stands in "
            "(accountable owner, owner to confirm)",
        },
        {
            "line": 9,
            "message": "Initiated on: '31/12/2023' is not a valid date (dates with slashes are "
            "month/day/year); recorded as unknown",
        },
    ]
    assert Initiative.objects.count() == 0  # the dry run writes nothing

    job = run(coe_admin, job)
    assert job.status == ImportStatus.SUCCEEDED, job.error
    assert job.processed_rows == 7
    assert job.result["counts"]["create"] == 4
    assert Initiative.objects.get(external_id="MSY-5").initiated_on is None
    triage = Initiative.objects.get(external_id="MSY-1")
    assert triage.title == "\u201cSmart\u201d claims triage"
    assert triage.stage == "production" and triage.uses_pii is True
    assert triage.initiated_on == datetime.date(2023, 10, 1)
    assert triage.purpose == "Sorts claims by urgency"
    assert triage.accountable_owner == alice and not triage.owner_to_confirm
    chatbot = Initiative.objects.get(external_id="MSY-3")
    assert chatbot.initiated_on == datetime.date(2023, 10, 1)
    assert chatbot.business_unit.code == "RETAIL" and chatbot.stage == "proposed"
    fraud = Initiative.objects.get(external_id="MSY-2")
    assert fraud.owner_to_confirm
    placeholder = fraud.accountable_owner
    assert placeholder.username == "placeholder-jane-unknown"
    assert not placeholder.is_active and not placeholder.has_usable_password()
    assert placeholder.first_name == "Jane" and placeholder.last_name == "Unknown"
    # stage history and audit: one event per created initiative, chain intact
    # the stage history is backfilled from the file's dates: initiated 2023-10-01, then
    # production (no production date: the day of the import)
    history = list(StageChange.objects.filter(initiative=triage).order_by("changed_at", "pk"))
    assert [(c.from_stage, c.to_stage) for c in history] == [
        ("", "proposed"),
        ("proposed", "production"),
    ]
    assert history[0].changed_at.date() == datetime.date(2023, 10, 1)
    assert all(change.reason.startswith("Imported from") for change in history)
    assert AuditEvent.objects.filter(action="initiative.imported").count() == 4
    assert AuditEvent.objects.filter(action="import.completed").count() == 1
    assert verify_audit_chain().ok


def test_reimport_is_all_skip_and_placeholders_are_reused(coe_admin, alice, unit_b):
    job, _ = preview_file(coe_admin, "messy_windows1252.csv")
    run(coe_admin, job)
    again, report = preview_file(coe_admin, "messy_windows1252.csv")
    assert report["counts"] == {"create": 0, "update": 0, "skip": 5, "reject": 2}
    assert report["warnings"] == []  # the placeholder now exists; skipped rows warn of nothing
    run(coe_admin, again)
    assert Initiative.objects.count() == 4


def test_bom_file_people_by_email_and_full_name(coe_admin, alice, unit_b):
    _, report = preview_file(coe_admin, "bom_utf8.csv")
    assert report["counts"]["create"] == 2, report
    job = ImportJob.objects.latest("id")
    run(coe_admin, job)
    cafe = Initiative.objects.get(external_id="BOM-1")
    assert cafe.accountable_owner == alice and cafe.tags == "forecast,caf\u00e9"
    assert cafe.initiated_on == datetime.date(2023, 10, 1)
    assert Initiative.objects.get(external_id="BOM-2").accountable_owner == alice


def test_update_changes_only_changed_fields(coe_admin, alice, unit_b):
    job, _ = preview_file(coe_admin, "bom_utf8.csv")
    run(coe_admin, job)
    cafe = Initiative.objects.get(external_id="BOM-1")
    content = fixture("bom_utf8.csv").replace(b"proposed", b"Operation and Maintenance")
    result = imports.import_file(
        actor=coe_admin, filename="bom2.csv", content=content, preset="keel", dry_run=False
    )
    assert result["preview"]["counts"] == {"create": 0, "update": 1, "skip": 1, "reject": 0}
    updated_row = next(row for row in result["preview"]["rows"] if row["action"] == "update")
    assert updated_row["reference"] == cafe.reference
    cafe.refresh_from_db()
    assert cafe.stage == "production"
    event = AuditEvent.objects.filter(
        action="initiative.stage_imported", object_id=str(cafe.pk)
    ).last()
    assert '"before":{"stage":"proposed"}' in event.payload
    assert verify_audit_chain().ok


# --- midway failure -----------------------------------------------------------------------


def _table_counts():
    from django.contrib.auth import get_user_model

    return {
        "initiatives": Initiative.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "units": BusinessUnit.objects.count(),
        "users": get_user_model().objects.count(),
        "models": AIModel.objects.count(),
        "model_links": AIModel.initiatives.through.objects.count(),
        "deployments": Deployment.objects.count(),
        "assessments": RiskAssessment.objects.count(),
        "audit": AuditEvent.objects.count(),
        "sequence": list(Sequence.objects.values_list("name", "last_value")),
    }


def _fails_midway(monkeypatch, coe_admin, failing_row: int):
    job, report = preview_file(
        coe_admin, "us_federal_2024.csv", preset="us-federal-2024", create_units=True
    )
    assert report["counts"]["create"] == 4
    before = _table_counts()
    audit_before = AuditEvent.objects.count()

    original = imports._store_progress

    def explode(job_id, processed, total):
        if processed >= failing_row:
            raise DatabaseError(f"simulated failure writing row {failing_row}")
        original(job_id, processed, total)

    monkeypatch.setattr(imports, "_store_progress", explode)
    monkeypatch.setattr(apply, "BATCH_SIZE", 1)  # one progress call per written row
    job = run(coe_admin, job)
    assert job.status == ImportStatus.FAILED
    assert f"simulated failure writing row {failing_row}" in job.error
    after = _table_counts()
    # the job's own confirm event is the only audit row added (written before the run)
    assert after["audit"] == audit_before + 1
    before["audit"] = after["audit"]
    assert after == before
    assert verify_audit_chain().ok
    assert imports.import_job_progress(job)["status"] == ImportStatus.FAILED


@pytest.mark.postgres
def test_failure_midway_leaves_the_database_as_before(monkeypatch, coe_admin):
    _fails_midway(monkeypatch, coe_admin, failing_row=3)


@pytest.mark.postgres
def test_failure_in_the_last_write_leaves_the_database_as_before(monkeypatch, coe_admin):
    """The risk assessments are written after every initiative: fail there."""
    job, _ = preview_file(
        coe_admin, "us_federal_2024.csv", preset="us-federal-2024", create_units=True
    )
    before = _table_counts()
    original = RiskAssessment.objects.bulk_create

    def explode(*args, **kwargs):
        raise DatabaseError("simulated failure writing the assessments")

    monkeypatch.setattr(RiskAssessment.objects, "bulk_create", explode)
    job = run(coe_admin, job)
    monkeypatch.setattr(RiskAssessment.objects, "bulk_create", original)
    assert job.status == ImportStatus.FAILED
    after = _table_counts()
    assert after["audit"] == before["audit"] + 1  # import.confirmed only
    after["audit"] = before["audit"]
    assert after == before
    assert verify_audit_chain().ok


# --- US federal ---------------------------------------------------------------------------


def test_federal_file_creates_agency_bureaus_and_tier_3(coe_admin):
    job, report = preview_file(
        coe_admin, "us_federal_2024.csv", preset="us-federal-2024", create_units=True
    )
    assert report["counts"] == {"create": 4, "update": 0, "skip": 0, "reject": 0}
    assert sorted(report["new_units"]) == [
        "Bureau of Benefits",
        "Bureau of Roads",
        "Department of Examples",
    ]
    job = run(coe_admin, job)
    assert job.status == ImportStatus.SUCCEEDED, job.error
    agency = BusinessUnit.objects.get(name="Department of Examples")
    roads = BusinessUnit.objects.get(name="Bureau of Roads")
    assert roads.parent == agency
    benefits = Initiative.objects.get(title="Benefits eligibility screening")
    assert benefits.business_unit.name == "Bureau of Benefits"
    assert benefits.external_id == "department-of-examples/benefits-eligibility-screening"
    assert benefits.stage == "production" and benefits.sourcing == "vendor"
    assert benefits.uses_pii is True and benefits.production_on == datetime.date(2023, 3, 15)
    assert current_tier(benefits) == 3
    bridge = Initiative.objects.get(title="Bridge inspection imagery")
    assert current_tier(bridge) == 3 and bridge.stage == "pilot"
    assert bridge.sourcing == "both" and bridge.initiated_on == datetime.date(2023, 10, 1)
    summaries = Initiative.objects.get(title="Correspondence summaries")
    # "Neither" gives a provisional tier ("from import, not yet assessed"), not "unassessed"
    assert summaries.business_unit == agency and current_tier(summaries) == 1
    provisional = RiskAssessment.objects.get(initiative=summaries, is_current=True)
    assert provisional.provisional and provisional.subject_fingerprint == ""
    assert provisional.answers == {"rights_impacting": "no", "safety_impacting": "no"}
    assert provisional.rationale[-1].startswith("From import, not yet assessed")
    permit = Initiative.objects.get(title="Permit triage")
    answers = RiskAssessment.objects.get(initiative=permit, is_current=True).answers
    assert answers == {"rights_impacting": "yes", "safety_impacting": "yes"}
    # no owner column: the importer stands in, flagged to confirm
    assert benefits.accountable_owner == coe_admin and benefits.owner_to_confirm
    assert verify_audit_chain().ok


def test_reimporting_the_federal_file_updates_instead_of_duplicating(coe_admin):
    job, _ = preview_file(
        coe_admin, "us_federal_2024.csv", preset="us-federal-2024", create_units=True
    )
    run(coe_admin, job)
    content = fixture("us_federal_2024.csv").replace(b",Initiated,", b",Retired,")
    result = imports.import_file(
        actor=coe_admin,
        filename="again.csv",
        content=content,
        preset="us-federal-2024",
        dry_run=False,
    )
    assert result["preview"]["counts"] == {"create": 0, "update": 1, "skip": 3, "reject": 0}
    assert Initiative.objects.count() == 4
    assert Initiative.objects.get(title="Correspondence summaries").stage == "retired"
    assert RiskAssessment.objects.count() == 4  # impacts unchanged: no new assessment


def test_unknown_units_are_rejected_unless_create_units(coe_admin):
    _, report = preview_file(coe_admin, "us_federal_2024.csv", preset="us-federal-2024")
    assert report["counts"]["reject"] == 4
    assert report["rejected"][0]["reason"].startswith(
        "unknown business unit 'Department of Examples'"
    )


def test_id_column_option_is_the_stable_id(coe_admin, unit_a):
    content = (
        b"Ref,Name,Agency\nX-1,First,RETAIL\nX-1,First,RETAIL\nX-2,First,RETAIL\nX-2,B,RETAIL\n"
    )
    result = imports.import_file(
        actor=coe_admin,
        filename="ids.csv",
        content=content,
        preset="us-federal-2024",
        dry_run=False,
        options={"id_column": "Ref"},
    )
    assert result["preview"]["counts"] == {"create": 2, "update": 0, "skip": 1, "reject": 1}
    assert result["preview"]["rejected"] == [
        {"line": 5, "reason": "the same id as line 4 but different values"}
    ]
    assert set(Initiative.objects.values_list("external_id", flat=True)) == {"X-1", "X-2"}


# --- permissions and scoping --------------------------------------------------------------


def test_bu_lead_imports_for_own_units_only(lead_a, unit_a, unit_b, alice):
    job, report = preview_file(lead_a, "messy_windows1252.csv", create_units=True)
    rejected = {row["line"]: row["reason"] for row in report["rejected"]}
    assert rejected[4] == "you may not import for business unit 'Insurance'"
    assert "only CoE admins can create units" in rejected[10]
    assert report["counts"]["create"] == 3
    job = run(lead_a, job)
    assert job.status == ImportStatus.SUCCEEDED
    assert set(Initiative.objects.values_list("business_unit__code", flat=True)) == {"RETAIL"}
    assert BusinessUnit.objects.count() == 2


def test_bu_lead_cannot_update_another_units_initiative(lead_a, unit_a, unit_b, alice):
    other = InitiativeFactory(business_unit=unit_b, external_id="BOM-1", accountable_owner=alice)
    _, report = preview_file(lead_a, "bom_utf8.csv")
    rejected = {row["line"]: row["reason"] for row in report["rejected"]}
    assert rejected[2].startswith(f"{other.reference} belongs to 'Insurance'")


@pytest.mark.parametrize("role", [Role.BU_MEMBER, Role.EXECUTIVE, Role.COE_REVIEWER])
def test_others_may_not_import(unit_a, role):
    person = member(role, unit_a)
    with pytest.raises(PermissionDenied):
        imports.import_job_create(actor=person, filename="m.csv", content=fixture("bom_utf8.csv"))


def test_history_scope(coe_admin, lead_a, executive, unit_a):
    mine = imports.import_job_create(
        actor=lead_a, filename="b.csv", content=fixture("bom_utf8.csv")
    )
    theirs = imports.import_job_create(
        actor=coe_admin, filename="b.csv", content=fixture("bom_utf8.csv")
    )
    assert list(imports.import_jobs_list(actor=lead_a)) == [mine]
    assert set(imports.import_jobs_list(actor=executive)) == {mine, theirs}
    with pytest.raises(Http404):
        imports.import_job_get(actor=lead_a, pk=theirs.pk)
    assert imports.import_job_get(actor=coe_admin, pk=mine.pk) == mine
    assert mine.sha256 and mine.size_bytes == len(fixture("bom_utf8.csv"))


# --- service contract ---------------------------------------------------------------------


def test_columns_samples_and_mapping_validation(coe_admin, unit_a):
    job = imports.import_job_create(
        actor=coe_admin, filename="m.csv", content=fixture("messy_windows1252.csv")
    )
    assert job.status == ImportStatus.UPLOADED and job.total_rows == 7
    columns = imports.import_job_columns(job)
    assert columns[1] == {
        "header": "Name",
        "field": "title",
        "samples": ["\u201cSmart\u201d claims triage", "Fraud radar", "Chatbot \u2013 FAQ"],
    }
    with pytest.raises(ValidationError) as error:
        imports.import_job_preview(
            actor=coe_admin,
            job=job,
            mapping={"Name": "title", "BU": "title", "Nope": "purpose"},
            options={},
        )
    messages = error.value.message_dict["mapping"]
    assert "Title is mapped twice ('Name' and 'BU')." in messages
    assert "The file has no column 'Nope'." in messages
    assert "Map a column to Business unit." in messages


def test_adjusted_mapping_saved_as_preset(coe_admin, unit_a, alice):
    job = imports.import_job_create(
        actor=coe_admin, filename="m.csv", content=fixture("messy_windows1252.csv")
    )
    mapping = {**job.mapping, "Purpose": "outputs"}
    imports.import_job_preview(
        actor=coe_admin, job=job, mapping=mapping, options={}, save_preset_as="Claims sheet"
    )
    preset = ImportPreset.objects.get(name="Claims sheet")
    assert preset.mapping["Purpose"] == "outputs" and preset.base == "keel"
    again = imports.import_job_create(
        actor=coe_admin,
        filename="m.csv",
        content=fixture("messy_windows1252.csv"),
        preset="Claims sheet",
    )
    assert again.mapping["Purpose"] == "outputs"
    with pytest.raises(ValidationError):
        imports.import_job_create(
            actor=coe_admin, filename="m.csv", content=fixture("bom_utf8.csv"), preset="nope"
        )


def test_confirm_twice_is_a_conflict_and_progress_reaches_100(coe_admin, unit_a, unit_b, alice):
    from core.exceptions import Conflict

    job, _ = preview_file(coe_admin, "bom_utf8.csv")
    with pytest.raises(Conflict):
        imports.import_job_confirm(
            actor=coe_admin,
            job=imports.import_job_create(
                actor=coe_admin, filename="b.csv", content=fixture("bom_utf8.csv")
            ),
        )
    job = run(coe_admin, job)
    assert imports.import_job_progress(job) == {
        "status": "succeeded",
        "processed": 2,
        "total": 2,
        "percent": 100,
    }
    with pytest.raises(Conflict):
        imports.import_job_confirm(actor=coe_admin, job=job)
    # a redelivered task does nothing
    assert imports.import_job_run(job.pk).status == ImportStatus.SUCCEEDED
    assert Initiative.objects.count() == 2


def test_progress_is_readable_while_running(coe_admin, unit_a, unit_b, alice, monkeypatch):
    job, _ = preview_file(coe_admin, "bom_utf8.csv")
    seen = []
    original = imports._store_progress

    def spy(job_id, processed, total):
        original(job_id, processed, total)
        seen.append(imports.import_job_progress(ImportJob(pk=job_id)))

    monkeypatch.setattr(imports, "_store_progress", spy)
    monkeypatch.setattr(apply, "BATCH_SIZE", 1)
    run(coe_admin, job)
    assert [state["percent"] for state in seen] == [0, 0, 50, 100, 100]
    assert {state["status"] for state in seen} == {"running"}


def test_task_runs_the_job(coe_admin, unit_a, unit_b, alice):
    from governance.imports.tasks import run_import_job_task

    job, _ = preview_file(coe_admin, "bom_utf8.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    assert run_import_job_task(job.pk) == ImportStatus.SUCCEEDED
    assert Initiative.objects.count() == 2


def test_people_placeholders_for_technical_lead_flag_the_initiative(coe_admin, unit_a, alice):
    content = b"Title,Business unit,Owner,Tech lead\nOne,RETAIL,alice,Bob Nobody\n"
    result = imports.import_file(
        actor=coe_admin, filename="p.csv", content=content, preset="keel", dry_run=False
    )
    assert result["result"]["counts"]["create"] == 1
    one = Initiative.objects.get()
    assert one.accountable_owner == alice and one.technical_lead.username == (
        "placeholder-bob-nobody"
    )
    assert one.owner_to_confirm


def test_models_and_deployments_are_linked_or_created(coe_admin, unit_a, unit_b, alice):
    existing = AIModel.objects.create(
        name="Scorer", model_type="classical_ml", business_unit=unit_a, owner=alice
    )
    content = (
        b"External ID,Title,Business unit,Owner,Models,Deployed in\n"
        b"M-1,Scoring,RETAIL,alice,Scorer; New LLM,INSURE\n"
    )
    imports.import_file(
        actor=coe_admin, filename="m.csv", content=content, preset="keel", dry_run=False
    )
    scoring = Initiative.objects.get(external_id="M-1")
    assert set(scoring.ai_models.values_list("name", flat=True)) == {"Scorer", "New LLM"}
    assert existing.initiatives.get() == scoring
    assert AIModel.objects.get(name="New LLM").business_unit == unit_a
    assert list(scoring.deployments.values_list("business_unit__code", flat=True)) == ["INSURE"]
    again = imports.import_file(
        actor=coe_admin, filename="m.csv", content=content, preset="keel", dry_run=True
    )
    assert again["preview"]["counts"]["skip"] == 1
    assert verify_audit_chain().ok


def test_dates_out_of_order_are_rejected(coe_admin, unit_a, alice):
    content = (
        b"Title,Business unit,Owner,Initiated on,Retired on\n"
        b"Old,RETAIL,alice,2023-05-01,2022-01-01\n"
    )
    result = imports.import_file(
        actor=coe_admin, filename="d.csv", content=content, preset="keel", dry_run=True
    )
    assert result["preview"]["rejected"] == [
        {"line": 2, "reason": "retired (2022-01-01) before it was initiated (2023-05-01)"}
    ]


# --- query counts -------------------------------------------------------------------------


def _rows_file(count: int) -> bytes:
    lines = ["External ID,Title,Business unit,Owner,Stage,Initiated on,Models,Deployed in"]
    for number in range(count):
        lines.append(
            f"Q-{number},Use case {number},RETAIL,person{number % 7},Pilot,2023-10-01,"
            f"Model {number % 5},INSURE"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("count", [10, 100])
def test_build_plan_query_count_does_not_grow(
    count, coe_admin, unit_a, unit_b, django_assert_max_num_queries
):
    for number in range(3):
        UserFactory(username=f"person{number}")
    model = AIModel.objects.create(
        name="Model 0", model_type="classical_ml", business_unit=unit_a, owner=coe_admin
    )
    for number in range(0, count, 2):  # half the rows update existing initiatives
        existing = InitiativeFactory(business_unit=unit_a, external_id=f"Q-{number}")
        Deployment.objects.create(initiative=existing, business_unit=unit_b)
        model.initiatives.add(existing)
    table = reader.read_table("q.csv", _rows_file(count))
    mapping = presets.suggest_mapping(table.headers, presets.get_preset("keel"))
    coe_admin.refresh_from_db()
    with django_assert_max_num_queries(9):
        plan = engine.build_plan(table, mapping, {}, coe_admin)
    assert plan.counts["create"] + plan.counts["update"] == count


# --- the command --------------------------------------------------------------------------


def test_command_dry_run_and_import(coe_admin, alice, unit_b, tmp_path):
    path = tmp_path / "messy.csv"
    path.write_bytes(fixture("messy_windows1252.csv"))
    out = io.StringIO()
    call_command("import_inventory", str(path), "--dry-run", "--user", "dana", stdout=out)
    text = out.getvalue()
    assert "create 4, update 0, skip 1, reject 2" in text
    assert "line 8: unknown stage 'Sort of live'" in text
    assert "line 9: warning: Initiated on: '31/12/2023' is not a valid date" in text
    assert Initiative.objects.count() == 0
    call_command("import_inventory", str(path), "--user", "dana", stdout=io.StringIO())
    assert Initiative.objects.count() == 4


def test_command_fails_on_an_unreadable_file(coe_admin, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_inventory", str(path), "--user", "dana", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_inventory", str(tmp_path / "missing.csv"), "--user", "dana")
