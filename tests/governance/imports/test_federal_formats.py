"""Real federal inventories go in whole (issue 17): bureaus that share a name under different
agencies, agency names that differ by whitespace, every answer of the 2023/2024/2025 data
dictionaries, placeholders in every optional field, implausible dates, over-long titles, a
database refusal the dry run predicts, .xls and UTF-16 files, the 2023, 2025 and COTS
columns, mapping files on the command line, and export → import of each format changing
nothing. Files are written here with the publishers' column names (never copied from the
public files)."""

import csv
import datetime
import io
import json
from pathlib import Path

import pytest
import xlwt
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.audit import verify_audit_chain
from core.exceptions import Conflict
from core.models import BusinessUnit
from demo.organisation import seed_demo
from governance.imports import export_rows, presets, reader
from governance.imports import federal as fed
from governance.imports import services as imports
from governance.imports.fields import BY_NAME
from governance.imports.models import ImportJob, ImportPreset
from governance.risk.models import RiskAssessment
from inventory.registry.choices import ModelType
from inventory.registry.models import AIModel
from portfolio.initiatives.models import Initiative
from tests.factories import UserFactory

DICTIONARIES = Path(__file__).parent.parent / "fixtures" / "federal" / "dictionaries.json"

HEADER_2024 = list(fed.COLUMNS)


def csv_bytes(header, rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row_2024(name, agency, bureau="", **values) -> list[str]:
    cells = dict.fromkeys(HEADER_2024, "")
    cells.update(
        {
            fed.USE_CASE_NAME: name,
            fed.AGENCY: agency,
            fed.BUREAU: bureau,
            fed.STAGE: "Operation and Maintenance",
            fed.IMPACT: "Neither",
            fed.PURPOSE: f"Purpose of {name}.",
        }
    )
    cells.update(values)
    return [cells[column] for column in HEADER_2024]


def import_bytes(actor, content, preset, *, filename="inventory.csv", dry_run=False, **options):
    return imports.import_file(
        actor=actor,
        filename=filename,
        content=content,
        preset=preset,
        dry_run=dry_run,
        options={"create_units": True, **options},
    )


# --- business units -----------------------------------------------------------------------


def test_same_bureau_name_under_several_agencies_imports_and_reimports_unchanged(coe_admin):
    content = csv_bytes(
        HEADER_2024,
        [
            row_2024("Chat assistant", "Department of Examples", "OCIO"),
            row_2024("Audit sampling", "Department of Examples", "OIG"),
            row_2024("Chat assistant", "Department of Samples", "OCIO"),
            row_2024("Case triage", "Department of Samples", "OIG"),
            row_2024("Grant review", "Agency of Tests", "OCIO"),
        ],
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL)
    assert outcome["preview"]["refused"] == ""
    assert outcome["result"] and "error" not in outcome["result"], outcome["result"]
    assert outcome["preview"]["counts"]["create"] == 5
    ocio = BusinessUnit.objects.filter(name="OCIO")
    assert ocio.count() == 3
    assert {unit.parent.name for unit in ocio} == {
        "Department of Examples",
        "Department of Samples",
        "Agency of Tests",
    }
    assert len({unit.code for unit in BusinessUnit.objects.all()}) == BusinessUnit.objects.count()
    chats = Initiative.objects.filter(title="Chat assistant")
    assert {i.business_unit.parent.name for i in chats} == {
        "Department of Examples",
        "Department of Samples",
    }
    again = import_bytes(coe_admin, content, presets.US_FEDERAL, dry_run=True)
    assert again["preview"]["counts"] == {"create": 0, "update": 0, "skip": 5, "reject": 0}
    assert verify_audit_chain().ok


def test_agency_names_differing_by_whitespace_case_or_unicode_are_one_unit(coe_admin):
    content = csv_bytes(
        HEADER_2024,
        [
            row_2024("One", "Department of Examples"),
            row_2024("Two", "Department of Examples "),
            row_2024("Three", "  department  of   EXAMPLES"),
            row_2024("Four", "Ｄｅｐａｒｔｍｅｎｔ of Examples"),
            row_2024("Five", "Département d'Exemples"),
            row_2024("Six", "Departement d Exemples"),
        ],
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL)
    assert outcome["preview"]["counts"]["create"] == 6, outcome["preview"]["rejected"]
    names = sorted(
        BusinessUnit.objects.filter(parent=None)
        .exclude(code__in=["RETAIL"])
        .values_list("name", flat=True)
    )
    # the first spelling met is the display name, whitespace tidied
    assert names == ["Department of Examples", "Département d'Exemples"]


def test_unit_names_are_unique_within_a_parent_only(coe_admin, unit_a):
    BusinessUnit.objects.create(name="OCIO", code="OCIO-A", parent=unit_a)
    other = BusinessUnit.objects.create(name="Other agency", code="OTHER")
    BusinessUnit.objects.create(name="OCIO", code="OCIO-B", parent=other)
    with pytest.raises(ValidationError):
        BusinessUnit(name="ocio", code="OCIO-C", parent=unit_a).full_clean()
    with pytest.raises(ValidationError):
        BusinessUnit(name="retail banking", code="RB2").full_clean()


# --- the dry run cannot lie ------------------------------------------------------------------


@pytest.fixture
def refusing_trigger(db):
    """A real database refusal Keel's own checks do not know: a trigger that refuses any
    initiative titled "…REFUSED…" (as a DBA's rule or a constraint added later would)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION keel_test_refuse() RETURNS trigger AS $$ BEGIN "
                "IF NEW.title LIKE '%REFUSED%' THEN RAISE EXCEPTION 'refused by a trigger'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER keel_test_refuse BEFORE INSERT ON portfolio_initiative "
                "FOR EACH ROW EXECUTE FUNCTION keel_test_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER keel_test_refuse BEFORE INSERT ON portfolio_initiative "
                "WHEN NEW.title LIKE '%REFUSED%' BEGIN "
                "SELECT RAISE(ABORT, 'refused by a trigger'); END"
            )
    yield


def test_dry_run_predicts_a_database_refusal_and_cannot_be_confirmed(coe_admin, refusing_trigger):
    content = csv_bytes(
        HEADER_2024,
        [row_2024("Fine", "Department of Examples"), row_2024("REFUSED", "Department of X")],
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL, dry_run=True)
    assert "refused by a trigger" in outcome["preview"]["refused"]
    assert outcome["preview"]["counts"]["create"] == 2  # the plan alone saw nothing wrong
    assert Initiative.objects.count() == 0
    assert not BusinessUnit.objects.filter(name="Department of X").exists()  # rolled back
    job = ImportJob.objects.get(pk=outcome["job"])
    with pytest.raises(Conflict, match="refused by a trigger"):
        imports.import_job_confirm(actor=coe_admin, job=job)
    real = import_bytes(coe_admin, content, presets.US_FEDERAL)
    assert "refused by a trigger" in real["result"]["error"]
    assert Initiative.objects.count() == 0


def test_dry_run_without_refusal_writes_nothing_and_reports_none(coe_admin):
    content = csv_bytes(HEADER_2024, [row_2024("Fine", "Department of Examples", "OCIO")])
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL, dry_run=True)
    assert outcome["preview"]["refused"] == ""
    assert Initiative.objects.count() == 0
    assert not BusinessUnit.objects.filter(name="OCIO").exists()
    assert outcome["preview"]["new_units"] == ["Department of Examples", "OCIO"]


def test_command_dry_run_fails_on_a_predicted_refusal(coe_admin, refusing_trigger, tmp_path):
    path = tmp_path / "inventory.csv"
    path.write_bytes(csv_bytes(HEADER_2024, [row_2024("REFUSED", "Department of X")]))
    with pytest.raises(CommandError, match="refused by a trigger"):
        call_command(
            "import_inventory",
            str(path),
            "--preset",
            presets.US_FEDERAL,
            "--user",
            "dana",
            "--create-units",
            "--dry-run",
            stdout=io.StringIO(),
        )


# --- values as the publisher defines them -------------------------------------------------


def dictionary_values() -> list:
    return list(_dictionary_values())


def _dictionary_values():
    data = json.loads(DICTIONARIES.read_text(encoding="utf-8"))
    for year, columns in data.items():
        if year.startswith("_"):
            continue
        for column, spec in columns.items():
            for value, expected in spec["values"].items():
                yield pytest.param(spec["field"], value, expected, id=f"{year}:{column}:{value}")


@pytest.mark.parametrize("field,value,expected", dictionary_values())
def test_every_dictionary_answer_maps_to_a_keel_value(field, value, expected):
    parsed = BY_NAME[field].parse(value)
    assert (list(parsed) if isinstance(parsed, tuple) else parsed) == expected


def test_dictionary_fixture_covers_each_format():
    data = json.loads(DICTIONARIES.read_text(encoding="utf-8"))
    assert {"2023", "2024", "2025"} <= set(data)
    assert len(data["2025"]["development_stage"]["values"]) == 8


OPTIONAL_2024 = [
    fed.BUREAU,
    fed.TOPIC_AREA,
    fed.OUTPUTS,
    fed.STAGE,
    fed.IMPACT,
    fed.DATE_INITIATED,
    fed.DATE_ACQUISITION,
    fed.DATE_IMPLEMENTED,
    fed.DATE_RETIRED,
    fed.DEVELOPED_BY,
    fed.PII,
]


@pytest.mark.parametrize("placeholder", ["", "N/A", "NA", "TBD", "Unknown", "Not applicable"])
def test_placeholders_in_every_optional_field_become_unknown_not_rejections(coe_admin, placeholder):
    cells = dict.fromkeys(OPTIONAL_2024, placeholder)
    cells.pop(fed.BUREAU)  # a placeholder bureau would be a unit named "N/A": left blank
    content = csv_bytes(
        HEADER_2024, [row_2024("Placeholder row", "Department of Examples", **cells)]
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL)
    preview = outcome["preview"]
    assert preview["counts"]["reject"] == 0, preview["rejected"]
    assert preview["counts"]["create"] == 1
    initiative = Initiative.objects.get(title="Placeholder row")
    assert initiative.uses_pii is None and initiative.sourcing == ""  # unknown, not a default
    assert initiative.initiated_on is None and initiative.production_on is None
    assert initiative.stage == "draft"
    if placeholder:
        messages = " ".join(warning["message"] for warning in preview["warnings"])
        assert "Uses PII" in messages and "Developed" in messages
        assert "recorded as unknown" in messages


def test_unknown_is_shown_as_unknown(client, coe_admin):
    content = csv_bytes(
        HEADER_2024, [row_2024("Unknown row", "Department of Examples", **{fed.PII: "N/A"})]
    )
    import_bytes(coe_admin, content, presets.US_FEDERAL)
    initiative = Initiative.objects.get(title="Unknown row")
    client.force_login(coe_admin)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "PII unknown" in page
    assert "<dt>Developed</dt><dd>unknown</dd>" in page


def test_implausible_dates_and_spreadsheet_artefacts_are_unknown_with_a_warning(coe_admin):
    future = datetime.date.today().year + 11
    content = csv_bytes(
        HEADER_2024,
        [
            row_2024(
                "Odd dates",
                "Department of Examples",
                **{
                    fed.DATE_INITIATED: "1905-07-16",
                    fed.DATE_IMPLEMENTED: f"{future}-01-01",
                    fed.DATE_RETIRED: "24-Nov",
                },
            )
        ],
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL)
    assert outcome["preview"]["counts"]["create"] == 1
    initiative = Initiative.objects.get(title="Odd dates")
    assert initiative.initiated_on is None and initiative.production_on is None
    assert initiative.retired_on is None
    messages = [warning["message"] for warning in outcome["preview"]["warnings"]]
    assert any("1905-07-16 is not a plausible date" in message for message in messages)
    assert any("'24-Nov'" in message for message in messages)


def test_overlong_title_is_kept_cut_with_a_warning_and_reimports_unchanged(coe_admin):
    title = "A very long federal use case name " * 10  # 340 characters
    content = csv_bytes(HEADER_2024, [row_2024(title.strip(), "Department of Examples")])
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL)
    assert outcome["preview"]["counts"]["create"] == 1
    initiative = Initiative.objects.get()
    assert len(initiative.title) <= 200 and initiative.title.endswith("…")
    assert initiative.title[:-1] == title.strip()[: len(initiative.title) - 1]
    messages = [warning["message"] for warning in outcome["preview"]["warnings"]]
    assert any("Keel keeps the first 200" in message for message in messages)
    again = import_bytes(coe_admin, content, presets.US_FEDERAL, dry_run=True)
    assert again["preview"]["counts"]["skip"] == 1


def test_topic_area_is_kept_as_a_tag_and_dates_and_sourcing_are_mapped(coe_admin):
    content = csv_bytes(
        HEADER_2024,
        [
            row_2024(
                "Benefits screening",
                "Department of Examples",
                "Bureau of Benefits",
                **{
                    fed.TOPIC_AREA: "Government Services (includes Benefits and Service Delivery)",
                    fed.STAGE: "Implementation and Assessment",
                    fed.IMPACT: "Rights-Impacting",
                    fed.DATE_INITIATED: "10/1/2023",
                    fed.DATE_ACQUISITION: "2/1/2024",
                    fed.DEVELOPED_BY: "Developed with both contracting and in-house resources.",
                    fed.PII: "Yes",
                },
            )
        ],
    )
    import_bytes(coe_admin, content, presets.US_FEDERAL)
    initiative = Initiative.objects.get()
    assert "topic: Government Services (includes Benefits and Service Delivery)" in initiative.tags
    assert initiative.pilot_started_on == datetime.date(2024, 2, 1)
    assert initiative.sourcing == "both" and initiative.uses_pii is True
    assert initiative.stage == "pilot"
    assert RiskAssessment.objects.get(initiative=initiative).answers["rights_impacting"] == "yes"


# --- file formats -------------------------------------------------------------------------


def xls_bytes(header, rows) -> bytes:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Inventory")
    date_style = xlwt.easyxf(num_format_str="M/D/YYYY")
    for column, text in enumerate(header):
        sheet.write(0, column, text)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write(number, column, value, date_style)
            else:
                sheet.write(number, column, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_legacy_xls_is_read_with_dates(coe_admin):
    header = [fed.USE_CASE_NAME, fed.AGENCY, fed.STAGE, fed.DATE_INITIATED, fed.PII]
    content = xls_bytes(
        header,
        [
            [
                "Excel use case",
                "Department of Examples",
                "Retired",
                datetime.date(2023, 10, 1),
                "No",
            ],
            ["Number cell", "Department of Examples", "Initiated", "", 1],
        ],
    )
    table = reader.read_table("inventory.xls", content)
    assert table.headers == header
    assert table.rows[0] == (
        2,
        ["Excel use case", "Department of Examples", "Retired", "2023-10-01", "No"],
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL, filename="inventory.xls")
    assert outcome["preview"]["counts"]["create"] == 2, outcome["preview"]["rejected"]
    retired = Initiative.objects.get(title="Excel use case")
    assert retired.initiated_on == datetime.date(2023, 10, 1) and retired.stage == "retired"
    with pytest.raises(ValidationError):
        reader.read_table("broken.xls", reader.XLS_MAGIC + b"not really a workbook")


def test_utf16_csv_from_excel_unicode_text(coe_admin):
    content = csv_bytes(
        HEADER_2024, [row_2024("Café triage – v2", "Department of Examples")], encoding="utf-16"
    )
    outcome = import_bytes(coe_admin, content, presets.US_FEDERAL)
    assert outcome["preview"]["counts"]["create"] == 1
    assert Initiative.objects.get().title == "Café triage – v2"


# --- 2023, 2025 and COTS columns ----------------------------------------------------------


def test_2023_columns_map_department_agency_and_stage(coe_admin):
    header = list(fed.EXPORT_2023)
    preset = presets.get_preset(presets.US_FEDERAL_2023)
    mapping = presets.suggest_mapping(header, preset)
    assert mapping[fed.DEPARTMENT_2023] == "business_unit"
    assert mapping[fed.AGENCY_2023] == "child_business_unit"
    assert mapping[fed.STAGE_2023] == "stage"
    rows = [
        [
            "Department of Examples",
            "Bureau of Roads",
            "Office of Bridges",
            "Crack detection",
            "Finds cracks in bridge photos.",
            "In production: more than 1 year",
            "Computer vision",
            "Pat Doe",
            "pat.doe@example.gov",
        ]
    ]
    outcome = import_bytes(coe_admin, csv_bytes(header, rows), presets.US_FEDERAL_2023)
    assert outcome["preview"]["counts"]["create"] == 1, outcome["preview"]["rejected"]
    initiative = Initiative.objects.get()
    assert initiative.business_unit.name == "Bureau of Roads"
    assert initiative.business_unit.parent.name == "Department of Examples"
    assert initiative.stage == "production"
    assert initiative.accountable_owner.email == "pat.doe@example.gov"
    assert initiative.owner_to_confirm


def rows_2025(header):
    values = {
        "agency": "DOE",
        "agency_name": "Department of Examples",
        "id": "DOE-0001",
        "use_case_name": "Claims agent",
        "agency_bureau": "Office of Claims",
        "contact_email": "ai@example.gov",
        "is_withheld": "a) No",
        "development_stage": "b) Pilot – The use case has been deployed in a limited test or pilot "
        "capacity.",
        "is_high_impact": "a) High-impact",
        "HI_justification": "",
        "topic_area": "Government Benefits Processing",
        "classification": "Agentic AI: AI systems that perform tasks or make decisions "
        "autonomously with minimal human intervention.",
        "problem_solved": "Claims wait weeks.",
        "benefits": "Faster claims.",
        "system_outputs": "Draft decisions.",
        "operational_date": "3/1/2025",
        "contracting_usage": "c) Developed with both contracting and in-house resources",
        "has_pii": "Yes",
        "hi_testing_conducted": "b) In-progress",
    }
    second = {
        **values,
        "id": "DOE-0002",
        "use_case_name": "Translation",
        "development_stage": "Deployed",
        "is_high_impact": "b) Presumed high-impact, but determined not high impact",
        "HI_justification": "Human translators review every output.",
        "classification": "NLP",
        "operational_date": "N/A",
        "has_pii": "",
    }
    return [[row.get(column, "") for column in header] for row in (values, second)]


def test_2025_columns_import_stage_impact_classification_and_operational_date(coe_admin):
    header = list(fed.EXPORT_2025)
    outcome = import_bytes(coe_admin, csv_bytes(header, rows_2025(header)), presets.US_FEDERAL_2025)
    assert outcome["preview"]["counts"]["create"] == 2, outcome["preview"]["rejected"]
    agent = Initiative.objects.get(external_id="DOE-0001")
    assert agent.stage == "pilot" and agent.ai_type == "agentic"
    assert agent.pilot_started_on == datetime.date(2025, 3, 1) and agent.production_on is None
    assert agent.problem_statement == "Claims wait weeks." and agent.purpose == "Faster claims."
    assert agent.sourcing == "both" and agent.uses_pii is True
    assert "topic: Government Benefits Processing" in agent.tags
    assessment = RiskAssessment.objects.get(initiative=agent)
    assert assessment.answers["rights_impacting"] == assessment.answers["safety_impacting"]
    assert assessment.answers["rights_impacting"] == "yes" and assessment.provisional
    # the minimum-practice answers are kept in the tier's rationale
    assert "Reported (M-25-21) — Pre-deployment testing: b) In-progress" in assessment.rationale
    translation = Initiative.objects.get(external_id="DOE-0002")
    assert translation.stage == "production" and translation.ai_type == "nlp"
    assert translation.production_on is None and translation.uses_pii is None
    # presumed high-impact but determined not: a provisional assessment answering "no"
    provisional = RiskAssessment.objects.get(initiative=translation)
    assert provisional.provisional
    assert provisional.answers == {"rights_impacting": "no", "safety_impacting": "no"}
    assert (
        "Reported (M-25-21) — Why not high-impact: Human translators review every output."
        in provisional.rationale
    )


# Suggestions include the custom fields defined for initiatives (a query, issue 20).
@pytest.mark.django_db
def test_2025_original_excel_headers_are_suggested_too():
    preset = presets.get_preset(presets.US_FEDERAL_2025)
    headers = list(fed.EXCEL_HEADERS_2025)
    mapping = presets.suggest_mapping(headers, preset)
    assert mapping["Use Case Name"] == "title"
    assert mapping["Is the AI use case high-impact?"] == "impact"
    assert mapping["AI Classification"] == "ai_type"
    assert mapping["Bureau/Component"] == "child_business_unit"


def test_cots_file_skips_products_not_in_use_and_links_vendor_models(coe_admin):
    header = [
        fed.COTS_AGENCY,
        fed.COTS_USE_CASE,
        fed.COTS_IN_USE,
        fed.COTS_PRODUCT,
        fed.COTS_LICENCES,
    ]
    rows = [
        [
            "Department of Examples",
            "Generating code using AI.",
            "Y",
            "Code Helper, Chat Pro",
            "101-1000",
        ],
        [
            "Department of Examples",
            "Planning travel routes using AI-driven map applications.",
            "N",
            "",
            "",
        ],
        ["Department of Samples", "Generating code using AI.", "Y", "Code Helper", "1-100"],
    ]
    outcome = import_bytes(coe_admin, csv_bytes(header, rows), presets.US_FEDERAL_2025_COTS)
    counts = outcome["preview"]["counts"]
    assert counts == {"create": 2, "update": 0, "skip": 1, "reject": 0}, outcome["preview"]
    skipped = [row for row in outcome["preview"]["rows"] if row["action"] == "skip"]
    assert skipped[0]["reason"] == "not in use at the agency"
    code = Initiative.objects.get(business_unit__name="Department of Examples")
    assert sorted(model.name for model in code.ai_models.all()) == ["Chat Pro", "Code Helper"]
    assert set(AIModel.objects.values_list("model_type", flat=True)) == {ModelType.VENDOR_API}


# --- mapping from the command line --------------------------------------------------------


def command(*args) -> str:
    """``manage.py import_inventory … --user dana``; what it printed."""
    out = io.StringIO()
    call_command("import_inventory", *args, "--user", "dana", stdout=out)
    return out.getvalue()


def test_command_mapping_file_with_value_maps_and_saved_preset(coe_admin, tmp_path):
    path = tmp_path / "agency.csv"
    path.write_bytes(
        csv_bytes(
            ["Ref", "Project", "Dept", "Where it is"],
            [
                ["P-1", "Forecasting", "Department of Examples", "Live-ish"],
                ["P-2", "Search", "Department of Examples", "idea"],
            ],
        )
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n  Ref: external_id\n  Project: title\n  Dept: business_unit\n"
        "  Where it is: stage\n"
        "values:\n  stage:\n    Live-ish: production\n    idea: proposed\n"
        "options:\n  create_units: true\n",
        encoding="utf-8",
    )
    text = command(str(path), "--mapping", str(mapping), "--save-preset", "Agency sheet")
    assert "create 2, update 0, skip 0, reject 0" in text
    assert dict(Initiative.objects.values_list("title", "stage")) == {
        "Forecasting": "production",
        "Search": "proposed",
    }
    preset = ImportPreset.objects.get(name="Agency sheet")
    assert preset.mapping["Where it is"] == "stage"
    assert preset.options["values"]["stage"] == {"liveish": "production", "idea": "proposed"}
    # the saved preset alone maps and translates the same file on the next run
    text = command(str(path), "--preset", "Agency sheet", "--dry-run")
    assert "create 0, update 0, skip 2, reject 0" in text


def test_command_mapping_file_errors_are_clear(coe_admin, tmp_path):
    path = tmp_path / "agency.csv"
    path.write_bytes(csv_bytes(["Project", "Dept"], [["Forecasting", "Department of Examples"]]))
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"columns": {"Dept": "business_unit"}, "values": {"stage": {"x": "nonsense"}}}',
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="unknown stage 'nonsense'"):
        call_command("import_inventory", str(path), "--user", "dana", "--mapping", str(bad))
    broken = tmp_path / "broken.yaml"
    broken.write_text("columns: [unclosed", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid YAML or JSON"):
        call_command("import_inventory", str(path), "--user", "dana", "--mapping", str(broken))


# --- export → import changes nothing ------------------------------------------------------


@pytest.fixture
def demo(db):
    seed_demo(scale=0)
    return UserFactory(username="importer", is_superuser=True)


@pytest.mark.parametrize(
    "preset,header,rows",
    [
        (presets.US_FEDERAL_2023, "federal_2023_header", "federal_2023_rows"),
        (presets.US_FEDERAL, "federal_header", "federal_rows"),
        (presets.US_FEDERAL_2025, "federal_2025_header", "federal_2025_rows"),
    ],
)
def test_each_federal_export_reimported_changes_nothing(demo, preset, header, rows):
    initiatives = Initiative.objects.all()
    content = csv_bytes(
        getattr(export_rows, header)(), list(getattr(export_rows, rows)(initiatives))
    )
    outcome = imports.import_file(
        actor=demo, filename="export.csv", content=content, preset=preset, dry_run=True
    )
    counts = outcome["preview"]["counts"]
    assert counts["create"] == counts["update"] == counts["reject"] == 0, (
        outcome["preview"]["rejected"][:3],
        [row for row in outcome["preview"]["rows"] if row["action"] != "skip"][:3],
    )
    assert counts["skip"] == initiatives.count()


def test_imported_stage_dates_backfill_the_stage_history(coe_admin):
    from portfolio.initiatives.models import StageChange

    content = csv_bytes(
        HEADER_2024,
        [
            row_2024(
                "Dated use case",
                "Department of Examples",
                **{
                    fed.STAGE: "Operation and Maintenance",
                    fed.DATE_INITIATED: "1/4/2021",
                    fed.DATE_ACQUISITION: "6/1/2021",
                    fed.DATE_IMPLEMENTED: "3/15/2022",
                },
            ),
            row_2024("Undated pilot", "Department of Examples", **{fed.STAGE: "Initiated"}),
        ],
    )
    import_bytes(coe_admin, content, presets.US_FEDERAL)
    dated = Initiative.objects.get(title="Dated use case")
    history = [
        (change.from_stage, change.to_stage, change.changed_at.date())
        for change in StageChange.objects.filter(initiative=dated).order_by("changed_at", "pk")
    ]
    assert history == [
        ("", "proposed", datetime.date(2021, 1, 4)),
        ("proposed", "pilot", datetime.date(2021, 6, 1)),
        ("pilot", "production", datetime.date(2022, 3, 15)),
    ]
    undated = StageChange.objects.get(initiative__title="Undated pilot")
    assert undated.to_stage == "proposed"
    assert undated.changed_at.date() == datetime.date.today()  # no date in the file: the import


def test_provisional_tier_is_shown_as_from_import_not_yet_assessed(client, coe_admin):
    from django.urls import reverse

    content = csv_bytes(HEADER_2024, [row_2024("Neither row", "Department of Examples")])
    import_bytes(coe_admin, content, presets.US_FEDERAL)
    initiative = Initiative.objects.get(title="Neither row")
    client.force_login(coe_admin)
    register = client.get(reverse("governance:risk_register")).content.decode()
    assert "from import, not yet assessed" in register
    panel = client.get(reverse("governance:risk_panel", args=[initiative.pk])).content.decode()
    assert "From import, not yet assessed" in panel
