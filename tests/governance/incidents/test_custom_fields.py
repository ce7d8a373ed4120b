"""Custom fields on incidents (issue 20: "entity … incident"): the register carries them like
the others — the report form, the detail page, the API (validated, audited old → new), the
list filter and the CSV export."""

import csv
import io
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.customfields import definition_create
from core.models import AuditEvent
from governance.incidents.models import Incident
from tests.governance.incidents.helpers import high_risk_provider, report

pytestmark = pytest.mark.django_db

FORM = {
    "title": "Chatbot quoted another customer's balance",
    "description": "A session mix-up in the assistant's cache.",
    "category": "privacy",
    "severity": "sev2",
    "detected_at": "2026-10-20T09:00",
    "became_aware_at": "2026-10-20T10:00",
}


@pytest.fixture
def regulator_field(coe_admin):
    return definition_create(
        actor=coe_admin,
        data={
            "entity": "incident",
            "name": "regulator",
            "label": "Lead regulator",
            "field_type": "choice",
            "choices": ["PRA", "FCA", "DNB"],
        },
    )


def test_incident_form_detail_api_filter_export_carry_custom_fields(
    client, coe_admin, unit_a, regulator_field
):
    initiative = high_risk_provider(unit_a, coe_admin)
    client.force_login(coe_admin)
    bad = client.post(
        reverse("governance:incident_new"),
        {**FORM, "initiatives": [initiative.pk], "cf_regulator": "SEC"},
    )
    assert bad.status_code == 200 and "cf_regulator" in bad.context["form"].errors
    assert not Incident.objects.exists()

    created = client.post(
        reverse("governance:incident_new"),
        {**FORM, "initiatives": [initiative.pk], "cf_regulator": "DNB"},
    )
    incident = Incident.objects.get()
    assert created.status_code == 302, created.context["form"].errors
    assert incident.custom_fields == {"regulator": "DNB"}
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Lead regulator" in page and "DNB" in page

    other = report(coe_admin, [initiative], title="Drift in the scoring model")
    api = APIClient()
    api.force_authenticate(coe_admin)
    listed = api.get("/api/v1/incidents/", {"cf_regulator": "DNB"}).json()
    assert [row["reference"] for row in listed["results"]] == [incident.reference]
    assert listed["results"][0]["custom_fields"] == {"regulator": "DNB"}

    refused = api.patch(
        f"/api/v1/incidents/{other.pk}/", {"custom_fields": {"regulator": "SEC"}}, format="json"
    )
    assert refused.status_code == 400 and "regulator" in str(refused.json())
    other.refresh_from_db()
    assert other.custom_fields == {}
    changed = api.patch(
        f"/api/v1/incidents/{other.pk}/", {"custom_fields": {"regulator": "FCA"}}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    other.refresh_from_db()
    assert other.custom_fields == {"regulator": "FCA"}
    event = json.loads(
        AuditEvent.objects.filter(action="incident.updated").latest("sequence").payload
    )
    # Audited per field, old → new (not the whole object twice).
    assert event["before"]["custom_fields"] == {"regulator": None}
    assert event["after"]["custom_fields"] == {"regulator": "FCA"}

    exported = client.get(reverse("governance:incident_list_csv"), {"cf_regulator": "FCA"})
    header, *rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert header[-1] == "Lead regulator"
    assert [(row[0], row[-1]) for row in rows] == [(other.reference, "FCA")]
