"""Typed custom fields (issue 20): every type round-trips form → DB → API → export →
import; a bad value is a field-level error in the form and the API with nothing written; a
field required before production blocks the production gate with a named blocker; filters
through the one FilterSet keep the list's query count; scoping is unchanged."""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from core.choices import Role
from core.customfields import definition_create, definition_delete, definition_rename_choice
from core.models import AuditEvent, CustomFieldDefinition
from governance.approvals import services as engine
from portfolio.initiatives.models import Initiative
from tests.factories import InitiativeFactory, member

pytestmark = pytest.mark.django_db

BASE_FORM = {
    "title": "Mortgage document extraction",
    "category": "information_synthesis",
    "data_sensitivity": "confidential",
    "sourcing": "in_house",
    "ai_type": "nlp",
    "autonomy_level": "human_in_the_loop",
    "currency": "USD",
}


@pytest.fixture
def admin_user(unit_a):
    return member(Role.COE_ADMIN, unit_a, username="dana")


@pytest.fixture
def fields(admin_user, unit_b):
    """One initiative field of every type."""
    specs = [
        ("cost_centre", "Cost centre", "text", {}),
        ("notes_for_audit", "Notes for audit", "long_text", {}),
        ("headcount", "Headcount", "integer", {}),
        ("budget", "Budget", "decimal", {}),
        ("review_date", "Review date", "date", {}),
        ("sox_scope", "SOX scope", "boolean", {}),
        ("regime", "Regime", "choice", {"choices": ["PRA", "FCA", "ECB"]}),
        ("channels", "Channels", "multi_choice", {"choices": ["web", "app", "branch"]}),
        ("runbook", "Runbook", "url", {}),
        ("dpo", "Data-protection officer", "user", {}),
        ("product_line", "Product line", "business_unit", {}),
    ]
    return {
        name: definition_create(
            actor=admin_user,
            data={"entity": "initiative", "name": name, "label": label, "field_type": kind, **rest},
        )
        for name, label, kind, rest in specs
    }


def form_values(member_a, unit_b):
    return {
        "cf_cost_centre": "CC-4410",
        "cf_notes_for_audit": "Reviewed with internal audit in Q1.",
        "cf_headcount": "12",
        "cf_budget": "125000.50",
        "cf_review_date": "2027-03-31",
        "cf_sox_scope": "true",
        "cf_regime": "PRA",
        "cf_channels": ["web", "branch"],
        "cf_runbook": "https://wiki.example.com/runbook",
        "cf_dpo": str(member_a.pk),
        "cf_product_line": str(unit_b.pk),
    }


STORED = {
    "cost_centre": "CC-4410",
    "notes_for_audit": "Reviewed with internal audit in Q1.",
    "headcount": 12,
    "budget": 125000.5,
    "review_date": "2027-03-31",
    "sox_scope": True,
    "regime": "PRA",
    "channels": ["web", "branch"],
    "runbook": "https://wiki.example.com/runbook",
}


def test_every_type_round_trips_form_db_api_export_import(
    client, member_a, unit_a, unit_b, fields, admin_user
):
    client.force_login(member_a)
    page = client.get(reverse("portfolio:initiative_create")).content.decode()
    assert 'name="cf_review_date"' in page and 'name="cf_channels"' in page
    response = client.post(
        reverse("portfolio:initiative_create"),
        {
            **BASE_FORM,
            "business_unit": unit_a.pk,
            "accountable_owner": member_a.pk,
            **form_values(member_a, unit_b),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    initiative = Initiative.objects.get(title=BASE_FORM["title"])
    expected = {**STORED, "dpo": member_a.pk, "product_line": unit_b.pk}
    assert initiative.custom_fields == expected
    # Detail page shows them.
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert "CC-4410" in detail and "web; branch" in detail and "INSURE" in detail

    # API: the same values, by name.
    api = APIClient()
    api.force_authenticate(member_a)
    body = api.get(f"/api/v1/initiatives/{initiative.pk}/").json()
    assert body["custom_fields"] == expected

    # Export (Keel format) → import: the file's values land unchanged on a fresh copy.
    client.force_login(admin_user)
    exported = client.get(reverse("governance:initiative_export_csv"))
    text = b"".join(exported.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if r["Title"] == BASE_FORM["title"])
    assert row["Cost centre"] == "CC-4410"
    assert row["Channels"] == "web; branch"
    assert row["SOX scope"] == "yes"
    assert row["Data-protection officer"] == member_a.username
    assert row["Product line"] == "INSURE"
    assert row["Budget"] == "125000.5"

    from governance.imports import services as imports

    Initiative.objects.filter(pk=initiative.pk).update(custom_fields={})
    outcome = imports.import_file(
        actor=admin_user,
        filename="register.csv",
        content=text.encode(),
        preset="keel",
        dry_run=False,
    )
    assert outcome["result"] and not outcome["result"].get("error"), outcome
    initiative.refresh_from_db()
    assert initiative.custom_fields == expected
    # The importer offers every custom field as a mapping target.
    targets = {field["name"] for field in imports.target_fields()}
    assert {f"cf_{name}" for name in fields} <= targets


def test_bad_value_is_a_field_error_in_form_and_api_and_nothing_is_written(
    client, member_a, unit_a, fields
):
    client.force_login(member_a)
    response = client.post(
        reverse("portfolio:initiative_create"),
        {
            **BASE_FORM,
            "business_unit": unit_a.pk,
            "accountable_owner": member_a.pk,
            "cf_headcount": "twelve",
            "cf_regime": "SEC",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "cf_headcount" in errors and "cf_regime" in errors
    assert not Initiative.objects.exists()

    api = APIClient()
    api.force_authenticate(member_a)
    response = api.post(
        "/api/v1/initiatives/",
        {
            "title": "Via API",
            "business_unit": unit_a.pk,
            "accountable_owner": member_a.pk,
            "custom_fields": {"review_date": "31/03/2027", "headcount": 3},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "review_date" in str(response.json())
    assert not Initiative.objects.exists()
    response = api.post(
        "/api/v1/initiatives/",
        {
            "title": "Via API",
            "business_unit": unit_a.pk,
            "accountable_owner": member_a.pk,
            "custom_fields": {"no_such_field": 1},
        },
        format="json",
    )
    assert response.status_code == 400 and "no_such_field" in str(response.json())


def test_api_write_lays_values_over_and_is_audited_old_to_new(member_a, unit_a, fields):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    api = APIClient()
    api.force_authenticate(member_a)
    url = f"/api/v1/initiatives/{initiative.pk}/"
    assert api.patch(url, {"custom_fields": {"regime": "PRA"}}, format="json").status_code == 200
    response = api.patch(url, {"custom_fields": {"regime": "FCA", "headcount": "7"}}, format="json")
    assert response.status_code == 200
    initiative.refresh_from_db()
    assert initiative.custom_fields == {"regime": "FCA", "headcount": 7}
    event = json.loads(AuditEvent.objects.filter(action="initiative.updated").latest("pk").payload)
    assert event["before"]["custom_fields"] == {"regime": "PRA", "headcount": None}
    assert event["after"]["custom_fields"] == {"regime": "FCA", "headcount": 7}


def test_schema_lists_the_defined_fields(member_a, fields):
    api = APIClient()
    api.force_authenticate(member_a)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    properties = schema["components"]["schemas"]["Initiative"]["properties"]["custom_fields"]
    assert properties["properties"]["regime"]["enum"] == ["PRA", "FCA", "ECB"]
    assert properties["properties"]["review_date"]["format"] == "date"
    assert properties["properties"]["headcount"]["type"] == "integer"


def test_required_before_production_blocks_the_production_gate(admin_user, member_a, unit_a):
    from tests.governance.helpers import assessed

    definition_create(
        actor=admin_user,
        data={
            "entity": "initiative",
            "name": "regulator_reference",
            "label": "Regulator reference",
            "field_type": "text",
            "required": "from_stage",
            "required_from_stage": "production",
        },
    )
    initiative = assessed(unit_a, member_a, stage="pilot")
    from governance.risk import controls

    blockers = controls.gate_blockers(initiative, "production")
    assert [b.code for b in blockers if b.code.startswith("CF-")] == ["CF-regulator_reference"]
    assert "Regulator reference" in str(blockers[-1])
    # The pilot gate is not blocked by it.
    assert not [b for b in controls.gate_blockers(initiative, "pilot") if b.code.startswith("CF-")]
    with pytest.raises(ValidationError) as refused:
        engine.request_submit(actor=member_a, initiative=initiative, gate="production")
    assert "Regulator reference" in str(refused.value)
    initiative.custom_fields = {"regulator_reference": "FCA-2027-118"}
    Initiative.objects.filter(pk=initiative.pk).update(custom_fields=initiative.custom_fields)
    assert not [
        b for b in controls.gate_blockers(initiative, "production") if b.code.startswith("CF-")
    ]


@pytest.mark.parametrize("count", [3, 15])
def test_filters_keep_the_list_query_count(
    client, member_a, unit_a, fields, django_assert_max_num_queries, count
):
    for number in range(count):
        InitiativeFactory(
            business_unit=unit_a,
            custom_fields={
                "regime": "PRA" if number % 2 else "FCA",
                "review_date": f"2027-01-{number + 1:02d}",
                "channels": ["web"],
            },
        )
    client.force_login(member_a)
    url = reverse("portfolio:initiative_list")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as unfiltered:
        client.get(url)
    filtered_params = {
        "cf_regime": "PRA",
        "cf_review_date_min": "2027-01-02",
        "cf_review_date_max": "2027-01-09",
        "cf_channels": "web",
    }
    with CaptureQueriesContext(connection) as filtered:
        response = client.get(url, filtered_params)
    assert len(filtered) == len(unfiltered)
    rows = response.context["rows"]
    assert {row.custom_fields["regime"] for row in rows} == {"PRA"}
    assert all("2027-01-02" <= row.custom_fields["review_date"] <= "2027-01-09" for row in rows)
    expected = [n for n in range(count) if n % 2 and 2 <= n + 1 <= 9]
    assert len(rows) == len(expected)
    with django_assert_max_num_queries(len(unfiltered)):
        client.get(url, filtered_params)
    # The API filters through the same FilterSet.
    api = APIClient()
    api.force_authenticate(member_a)
    body = api.get("/api/v1/initiatives/", filtered_params).json()
    assert body["count"] == len(expected)


def test_member_scoping_is_unchanged(client, member_a, unit_b, fields):
    InitiativeFactory(business_unit=unit_b, custom_fields={"regime": "PRA"})
    client.force_login(member_a)
    response = client.get(reverse("portfolio:initiative_list"), {"cf_regime": "PRA"})
    assert list(response.context["rows"]) == []
    api = APIClient()
    api.force_authenticate(member_a)
    assert api.get("/api/v1/initiatives/", {"cf_regime": "PRA"}).json()["count"] == 0


def test_field_visible_to_roles_only(client, member_a, unit_a, admin_user):
    definition_create(
        actor=admin_user,
        data={
            "entity": "initiative",
            "name": "sox_control_owner",
            "label": "SOX control owner",
            "field_type": "text",
            "visible_to_roles": [Role.RISK_OFFICER],
        },
    )
    initiative = InitiativeFactory(
        business_unit=unit_a, custom_fields={"sox_control_owner": "J. Doe"}
    )
    client.force_login(member_a)
    assert "SOX control owner" not in client.get(initiative.get_absolute_url()).content.decode()
    api = APIClient()
    api.force_authenticate(member_a)
    assert (
        "sox_control_owner"
        not in api.get(f"/api/v1/initiatives/{initiative.pk}/").json()["custom_fields"]
    )


def test_rename_choice_migrates_and_delete_keeps_values_visibly(client, admin_user, unit_a):
    definition = definition_create(
        actor=admin_user,
        data={
            "entity": "initiative",
            "name": "regime",
            "label": "Regime",
            "field_type": "choice",
            "choices": ["PRA", "FSA"],
        },
    )
    old = InitiativeFactory(business_unit=unit_a, custom_fields={"regime": "FSA"})
    client.force_login(admin_user)
    url = reverse("core:custom_field_rename_choice", args=[definition.pk])
    confirm = client.post(url, {"old": "FSA", "new": "FCA"})
    assert "1 record(s)" in confirm.content.decode()
    old.refresh_from_db()
    assert old.custom_fields == {"regime": "FSA"}  # nothing moved before confirming
    client.post(url, {"old": "FSA", "new": "FCA", "confirm": "1"})
    old.refresh_from_db()
    definition.refresh_from_db()
    assert old.custom_fields == {"regime": "FCA"} and definition.choices == ["PRA", "FCA"]
    assert AuditEvent.objects.filter(action="custom_field.choice_renamed").exists()
    # Removing a choice in use is refused: rename it instead.
    with pytest.raises(ValidationError):
        from core.customfields import definition_update

        definition_update(actor=admin_user, definition=definition, data={"choices": ["PRA"]})

    delete_url = reverse("core:custom_field_delete", args=[definition.pk])
    assert "1 record(s) hold a value" in client.get(delete_url).content.decode()
    client.post(delete_url)
    assert not CustomFieldDefinition.objects.exists()
    old.refresh_from_db()
    assert old.custom_fields == {"regime": "FCA"}
    detail = client.get(old.get_absolute_url()).content.decode()
    assert "retired field" in detail and "FCA" in detail


def test_only_coe_admins_define_fields(client, member_a):
    client.force_login(member_a)
    assert client.get(reverse("core:custom_field_list")).status_code == 403
    with pytest.raises(Exception):  # noqa: B017 — PermissionDenied
        definition_create(
            actor=member_a,
            data={"entity": "initiative", "name": "x", "label": "X", "field_type": "text"},
        )
    assert not CustomFieldDefinition.objects.exists()


def test_admin_defines_a_field_through_the_page(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("core:custom_field_create"),
        {
            "entity": "vendor",
            "name": "risk_rating",
            "label": "Risk rating",
            "field_type": "choice",
            "required": "never",
            "choices": "Low\nMedium\nHigh",
            "order": 1,
        },
    )
    assert response.status_code == 302
    definition = CustomFieldDefinition.objects.get()
    assert definition.choices == ["Low", "Medium", "High"]
    bad = client.post(
        reverse("core:custom_field_create"),
        {
            "entity": "vendor",
            "name": "x",
            "label": "X",
            "field_type": "text",
            "required": "from_stage",
            "required_from_stage": "production",
            "order": 0,
        },
    )
    assert bad.status_code == 200 and "required" in bad.context["form"].errors


def test_definition_is_deleted_with_its_audit_event(admin_user):
    definition = definition_create(
        actor=admin_user,
        data={"entity": "vendor", "name": "x", "label": "X", "field_type": "text"},
    )
    assert definition_delete(actor=admin_user, definition=definition) == 0
    assert AuditEvent.objects.filter(action="custom_field.deleted").exists()
    with pytest.raises(ValidationError):
        definition_rename_choice(actor=admin_user, definition=definition, old="a", new="b")


def test_other_registers_carry_custom_fields_form_api_filter_export(client, admin_user, unit_a):
    """Vendors (through the shared reference form and ListExport) and AI models."""
    from inventory.registry.models import Vendor
    from tests.factories import AIModelFactory, VendorFactory

    definition_create(
        actor=admin_user,
        data={
            "entity": "vendor",
            "name": "risk_rating",
            "label": "Risk rating",
            "field_type": "choice",
            "choices": ["Low", "High"],
        },
    )
    definition_create(
        actor=admin_user,
        data={
            "entity": "ai_model",
            "name": "model_risk_id",
            "label": "MRM id",
            "field_type": "text",
        },
    )
    client.force_login(admin_user)
    response = client.post(
        reverse("inventory:vendor_create"),
        {"name": "Acme AI", "due_diligence_status": "not_started", "cf_risk_rating": "High"},
    )
    assert response.status_code == 302, response.context["form"].errors
    vendor = Vendor.objects.get(name="Acme AI")
    assert vendor.custom_fields == {"risk_rating": "High"}
    bad = client.post(
        reverse("inventory:vendor_create"),
        {"name": "Other AI", "due_diligence_status": "not_started", "cf_risk_rating": "Medium"},
    )
    assert bad.status_code == 200 and "cf_risk_rating" in bad.context["form"].errors
    VendorFactory(name="Quiet AI")
    api = APIClient()
    api.force_authenticate(admin_user)
    listed = api.get("/api/v1/vendors/", {"cf_risk_rating": "High"}).json()
    assert [row["name"] for row in listed["results"]] == ["Acme AI"]
    assert listed["results"][0]["custom_fields"] == {"risk_rating": "High"}
    refused = api.patch(
        f"/api/v1/vendors/{vendor.pk}/", {"custom_fields": {"risk_rating": "Medium"}}, format="json"
    )
    assert refused.status_code == 400 and "risk_rating" in str(refused.json())
    exported = client.get(reverse("inventory:vendor_list_csv"))
    text = b"".join(exported.streaming_content).decode()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[-1] == "Risk rating"
    assert [rows[0][0], rows[0][-1]] == ["Acme AI", "High"] or any(
        row[0] == "Acme AI" and row[-1] == "High" for row in rows
    )

    model = AIModelFactory(business_unit=unit_a, custom_fields={"model_risk_id": "MRM-118"})
    body = api.get(f"/api/v1/models/{model.pk}/").json()
    assert body["custom_fields"] == {"model_risk_id": "MRM-118"}
    assert "MRM-118" in client.get(model.get_absolute_url()).content.decode()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the expression index is PostgreSQL's"
)
def test_a_range_field_gets_an_index_its_filter_uses_and_loses_it_with_the_field(
    admin_user, unit_a
):
    from django.test import RequestFactory

    from core.customfields import definition_update, range_index_name
    from portfolio.initiatives.filtersets import InitiativeFilterSet

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'portfolio_initiative'"
            )
            return {row[0] for row in cursor.fetchall()}

    review = definition_create(
        actor=admin_user,
        data={
            "entity": "initiative",
            "name": "review_date",
            "label": "Review",
            "field_type": "date",
        },
    )
    label = definition_create(
        actor=admin_user,
        data={"entity": "initiative", "name": "label", "label": "Label", "field_type": "text"},
    )
    assert range_index_name(review) in indexes()
    assert range_index_name(label) not in indexes()  # text: the filter is containment (GIN)

    request = RequestFactory().get("/initiatives/")
    request.user = admin_user
    filtered = InitiativeFilterSet(
        {"cf_review_date_min": "2027-01-01", "cf_review_date_max": "2027-03-31"},
        queryset=Initiative.objects.all(),
        request=request,
    ).qs
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: force the choice
        sql, params = filtered.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert range_index_name(review) in plan, plan

    definition_update(actor=admin_user, definition=review, data={"field_type": "text"})
    assert range_index_name(review) not in indexes()
    definition_update(actor=admin_user, definition=review, data={"field_type": "integer"})
    assert range_index_name(review) in indexes()
    definition_delete(actor=admin_user, definition=review)
    assert range_index_name(review) not in indexes()
