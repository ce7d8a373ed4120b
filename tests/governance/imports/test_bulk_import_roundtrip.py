"""Export → import of the demo data round-trips (issue 8): in the ``keel`` format every field
it carries, in ``us-federal-2024`` the fields that format carries. Re-importing an export
changes nothing; after scrambling some initiatives, importing the export restores them so
that a new export is identical to the first."""

import csv
import io

import pytest

from core.audit import verify_audit_chain
from core.models import AuditEvent
from demo.organisation import seed_demo
from governance.imports import export_rows, federal, presets
from governance.imports import services as imports
from governance.risk.models import RiskAssessment
from inventory.registry.models import AIModel
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def to_csv(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def export(kind: str) -> tuple[list, list]:
    initiatives = Initiative.objects.all()
    if kind == "keel":
        return export_rows.keel_header(), list(export_rows.keel_rows(initiatives))
    return export_rows.federal_header(), list(export_rows.federal_rows(initiatives))


def assert_same(exported, expected):
    """Equal exports; on a difference, name the reference, column and both values."""
    header, rows = expected
    assert exported[0] == header
    differences = [
        (row[:2], header[index], old, new)
        for row, again in zip(rows, exported[1], strict=True)
        for index, (old, new) in enumerate(zip(row, again, strict=True))
        if old != new
    ]
    assert differences == []


def counts() -> dict:
    return {
        "initiatives": Initiative.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "models": AIModel.objects.count(),
        "links": AIModel.initiatives.through.objects.count(),
        "deployments": Deployment.objects.count(),
        "assessments": RiskAssessment.objects.count(),
    }


@pytest.fixture
def demo(db):
    seed_demo(scale=0)
    return UserFactory(username="importer", is_superuser=True)


def import_csv(actor, content, preset, dry_run=False):
    return imports.import_file(
        actor=actor, filename=f"{preset}.csv", content=content, preset=preset, dry_run=dry_run
    )


def scramble(initiatives):
    """Change every field the formats carry on these initiatives, behind the services."""
    ids = [initiative.pk for initiative in initiatives]
    Initiative.objects.filter(pk__in=ids).update(
        title="Scrambled",
        purpose="",
        outputs="changed",
        problem_statement="changed",
        category="other",
        stage="draft",
        initiated_on=None,
        pilot_started_on=None,
        production_on=None,
        retired_on=None,
        uses_pii=False,
        sourcing="both",
        technical_lead=None,
        executive_sponsor=None,
        tags="",
        links="",
        jurisdictions="",
        expected_annual_value=None,
        roadmap_phase=None,
    )
    AIModel.initiatives.through.objects.filter(initiative_id__in=ids).delete()
    Deployment.objects.filter(initiative_id__in=ids).delete()
    RiskAssessment.objects.filter(initiative_id__in=ids).update(
        is_current=False, status="superseded"
    )


def test_keel_header_is_the_preset(demo):
    header = export_rows.keel_header()
    mapping = presets.suggest_mapping(header, presets.get_preset("keel"))
    assert all(mapping.values()), [h for h, name in mapping.items() if not name]
    assert len(set(mapping.values())) == len(header)


def test_keel_round_trip_is_lossless(demo):
    header, rows = export("keel")
    assert len(rows) == Initiative.objects.count() > 100
    content = to_csv(header, rows)
    before, audit_before = counts(), AuditEvent.objects.count()

    result = import_csv(demo, content, "keel")
    assert result["preview"]["counts"] == {
        "create": 0,
        "update": 0,
        "skip": len(rows),
        "reject": 0,
    }, result["preview"]["rejected"][:5]
    assert counts() == before
    # only the job's own events: uploaded, confirmed, completed
    assert AuditEvent.objects.count() == audit_before + 3

    # scramble a few initiatives, with links, deployments and a rights-impacting assessment
    rights = RiskAssessment.objects.filter(
        is_current=True, answers__rights_impacting="yes"
    ).values_list("initiative_id", flat=True)
    chosen = list(
        Initiative.objects.filter(pk__in=list(rights)[:2])
        | Initiative.objects.filter(deployments__isnull=False).distinct()[:2]
        | Initiative.objects.filter(ai_models__isnull=False).distinct()[:2]
    )
    assert len(chosen) >= 3
    scramble(chosen)
    result = import_csv(demo, content, "keel")
    assert result["preview"]["counts"]["update"] == len(chosen)
    assert result["preview"]["counts"]["reject"] == 0
    assert_same(export("keel"), (header, rows))
    assert verify_audit_chain().ok


def test_federal_round_trip_for_the_fields_it_carries(demo):
    header, rows = export("federal")
    assert header == list(federal.COLUMNS)
    content = to_csv(header, rows)
    before = counts()
    result = import_csv(demo, content, "us-federal-2024")
    assert result["preview"]["counts"] == {
        "create": 0,
        "update": 0,
        "skip": len(rows),
        "reject": 0,
    }, result["preview"]["rejected"][:5]
    assert counts() == before

    chosen = list(Initiative.objects.order_by("reference")[:5])
    Initiative.objects.filter(pk__in=[i.pk for i in chosen]).update(
        purpose="changed",
        outputs="",
        stage="draft",
        uses_pii=True,
        sourcing="vendor",
        initiated_on=None,
        production_on=None,
        retired_on=None,
        category="generation",
    )
    result = import_csv(demo, content, "us-federal-2024")
    assert result["preview"]["counts"]["update"] == 5
    assert_same(export("federal"), (header, rows))
    # matched by business unit and title: the demo's own external ids are kept
    assert all(
        i.external_id.startswith("demo-")
        for i in Initiative.objects.filter(pk__in=[i.pk for i in chosen])
    )
    assert verify_audit_chain().ok


def test_export_queries_do_not_grow(demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        list(export_rows.keel_rows(Initiative.objects.all()[:10]))
    with django_assert_max_num_queries(8):
        list(export_rows.federal_rows(Initiative.objects.all()))


def test_the_real_export_files_round_trip_formula_protected_text(demo, client):
    """Through the export views (with their formula protection) and back: text that starts
    like a formula is written as '-… / '=… and read back as written, so nothing changes."""
    from django.urls import reverse

    Initiative.objects.filter(pk=Initiative.objects.order_by("pk").first().pk).update(
        purpose="-5 % churn", outputs="=not a formula", tags="+risk,@ops"
    )
    client.force_login(demo)
    for preset, url in (
        ("keel", reverse("governance:initiative_export_csv")),
        (
            "us-federal-2024",
            reverse("governance:initiative_export_csv") + "?format=us-federal-2024",
        ),
    ):
        response = client.get(url)
        content = b"".join(response.streaming_content)
        assert b"'-5 % churn" in content and b"'=not a formula" in content
        before = counts()
        outcome = import_csv(demo, content, preset)
        assert outcome["preview"]["counts"]["create"] == 0, preset
        assert outcome["preview"]["counts"]["update"] == 0, preset
        assert outcome["preview"]["counts"]["reject"] == 0, preset
        assert counts() == before
    first = Initiative.objects.order_by("pk").first()
    assert (first.purpose, first.outputs) == ("-5 % churn", "=not a formula")


def test_round_trip_keeps_an_owner_still_to_confirm(demo):
    """Re-importing an export keeps ``owner_to_confirm`` (the file names the same stand-in);
    a file naming another, real accountable owner confirms it."""
    flagged = list(Initiative.objects.order_by("pk")[:2])
    Initiative.objects.filter(pk__in=[i.pk for i in flagged]).update(owner_to_confirm=True)
    header, rows = export("keel")

    result = import_csv(demo, to_csv(header, rows), "keel")
    assert result["preview"]["counts"]["update"] == 0
    assert set(Initiative.objects.filter(owner_to_confirm=True)) == set(flagged)

    owner_column = header.index("Accountable owner")
    reference = {row[header.index("Reference")]: row for row in rows}
    confirmed = flagged[0]
    new_owner = UserFactory(username="confirmed-owner")
    reference[confirmed.reference][owner_column] = new_owner.username
    result = import_csv(demo, to_csv(header, rows), "keel")
    assert result["preview"]["counts"]["update"] == 1, result["preview"]
    confirmed.refresh_from_db()
    assert (confirmed.accountable_owner, confirmed.owner_to_confirm) == (new_owner, False)
    assert Initiative.objects.get(pk=flagged[1].pk).owner_to_confirm


def test_keel_round_trip_restores_realised_value_and_its_evidence(demo):
    evidenced = list(Initiative.objects.exclude(value_evidence_url="")[:3])
    assert evidenced and all(item.realised_value_as_of for item in evidenced)
    header, rows = export("keel")
    assert {"Realised value as of", "Value evidence"} <= set(header)
    Initiative.objects.filter(pk__in=[item.pk for item in evidenced]).update(
        realised_value=None, realised_value_as_of=None, value_evidence_url=""
    )
    result = import_csv(demo, to_csv(header, rows), "keel")
    assert result["preview"]["counts"]["update"] == len(evidenced)
    assert_same(export("keel"), (header, rows))
    restored = Initiative.objects.get(pk=evidenced[0].pk)
    assert restored.value_evidence_url == evidenced[0].value_evidence_url


def test_a_value_evidence_cell_that_is_not_a_web_link_is_rejected(demo):
    header, rows = export("keel")
    column = header.index("Value evidence")
    rows = [rows[0][:column] + ["javascript:alert(1)"] + rows[0][column + 1 :]]
    result = import_csv(demo, to_csv(header, rows), "keel", dry_run=True)
    assert result["preview"]["counts"]["reject"] == 1
    assert "http(s)" in str(result["preview"]["rejected"][0])
