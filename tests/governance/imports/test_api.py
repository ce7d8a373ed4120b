"""``/api/v1/imports/``: upload and dry-run or import through the one engine
(``import_services.import_file``), the history scoped like the pages, 400 for an unreadable
file, 403 for people who may not import, and the schema."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from governance.imports.choices import ImportStatus
from governance.imports.models import ImportJob
from portfolio.initiatives.models import Initiative
from tests.factories import member

pytestmark = pytest.mark.django_db

FEDERAL = "us-federal-2024"
CSV = (
    b"Use Case Name,Agency,Stage of Development,Lead person\n"
    b"Benefits chatbot,RETAIL,Operation and Maintenance,dana\n"
    b"Fraud triage,RETAIL,Implementation and Assessment,Zed Unknown\n"
    b"Dream machine,RETAIL,Dreaming,dana\n"
)
URL = "/api/v1/imports/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(content=CSV, name="inventory.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_url_name():
    assert reverse("import-job-list") == URL


def test_dry_run_reports_rows_and_writes_nothing(coe_admin, unit_a):
    response = api(coe_admin).post(
        URL, {"file": upload(), "preset": FEDERAL, "dry_run": "true"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"] is None
    assert body["preview"]["counts"] == {"create": 2, "update": 0, "skip": 0, "reject": 1}
    assert body["preview"]["rejected"] == [{"line": 4, "reason": "unknown stage 'Dreaming'"}]
    job = ImportJob.objects.get(pk=body["job"])
    assert job.status == ImportStatus.PREVIEWED and job.created_by == coe_admin
    assert Initiative.objects.count() == 0


def test_import_creates_the_valid_rows(coe_admin, unit_a):
    response = api(coe_admin).post(URL, {"file": upload(), "preset": FEDERAL}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"]["counts"]["create"] == 2
    created = Initiative.objects.filter(pk__in=body["result"]["created"])
    assert sorted(created.values_list("title", flat=True)) == ["Benefits chatbot", "Fraud triage"]
    # "Lead person" is not a header the preset maps: the importer stands in as the owner.
    assert {(i.accountable_owner, i.owner_to_confirm) for i in created} == {(coe_admin, True)}
    job = ImportJob.objects.get(pk=body["job"])
    assert job.status == ImportStatus.SUCCEEDED
    assert AuditEvent.objects.filter(action="import.confirmed").count() == 1


def test_mapping_overrides_the_suggestion(coe_admin, unit_a):
    response = api(coe_admin).post(
        URL,
        {
            "file": upload(),
            "preset": FEDERAL,
            "mapping": json.dumps({"Lead person": "accountable_owner"}),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    job = ImportJob.objects.get(pk=body["job"])
    assert job.mapping["Lead person"] == "accountable_owner"
    assert job.mapping["Use Case Name"] == "title"  # the rest of the suggestion stays
    assert job.status == ImportStatus.SUCCEEDED
    assert body["result"]["counts"]["create"] == 2
    placeholder = Initiative.objects.get(title="Fraud triage")
    assert placeholder.owner_to_confirm is True
    assert placeholder.accountable_owner.username == "placeholder-zed-unknown"
    known = Initiative.objects.get(title="Benefits chatbot")
    assert (known.accountable_owner, known.owner_to_confirm) == (coe_admin, False)
    assert any("Zed Unknown" in warning["message"] for warning in body["preview"]["warnings"])


def test_bad_mapping_and_unreadable_files_are_400(coe_admin, unit_a):
    client = api(coe_admin)
    not_an_object = client.post(URL, {"file": upload(), "mapping": "[1, 2]"}, format="multipart")
    assert not_an_object.status_code == 400 and "mapping" in not_an_object.json()
    unknown_field = client.post(
        URL,
        {"file": upload(), "preset": FEDERAL, "mapping": json.dumps({"Lead person": "shoe"})},
        format="multipart",
    )
    assert unknown_field.status_code == 400
    assert "'shoe' is not a Keel field" in " ".join(unknown_field.json()["mapping"])
    empty = client.post(URL, {"file": upload(b"", "empty.csv")}, format="multipart")
    assert empty.status_code == 400 and "file" in empty.json()
    binary = client.post(
        URL, {"file": upload(b"PK\x03\x04 not really a workbook", "x.xlsx")}, format="multipart"
    )
    assert binary.status_code == 400 and "file" in binary.json()
    unknown_preset = client.post(URL, {"file": upload(), "preset": "nope"}, format="multipart")
    assert unknown_preset.status_code == 400 and "preset" in unknown_preset.json()
    assert Initiative.objects.count() == 0


def test_people_who_may_not_import_get_403(member_a, executive, unit_a):
    for user in (member_a, executive):
        response = api(user).post(URL, {"file": upload()}, format="multipart")
        assert response.status_code == 403
        # Refused before the payload is even read.
        assert api(user).post(URL, {}, format="multipart").status_code == 403
    assert ImportJob.objects.count() == 0
    assert APIClient().post(URL, {"file": upload()}, format="multipart").status_code == 401


def test_history_is_scoped(coe_admin, unit_a):
    lead = member(Role.BU_LEAD, unit_a, username="lee")
    admin_job = api(coe_admin).post(
        URL, {"file": upload(), "preset": FEDERAL, "dry_run": "true"}, format="multipart"
    )
    lead_job = api(lead).post(
        URL, {"file": upload(), "preset": FEDERAL, "dry_run": "true"}, format="multipart"
    )
    admin_id, lead_id = admin_job.json()["job"], lead_job.json()["job"]

    listed = api(lead).get(URL).json()
    assert [row["id"] for row in listed["results"]] == [lead_id]
    assert api(lead).get(f"{URL}{admin_id}/").status_code == 404
    detail = api(coe_admin).get(f"{URL}{lead_id}/").json()
    assert detail["created_by"] == "lee" and detail["status"] == ImportStatus.PREVIEWED
    assert detail["preview"]["counts"]["reject"] == 1 and len(detail["sha256"]) == 64
    assert "content" not in detail
    everything = api(coe_admin).get(URL).json()
    assert [row["id"] for row in everything["results"]] == [lead_id, admin_id]


@pytest.mark.parametrize("jobs", [2, 6])
def test_list_query_count_does_not_grow(jobs, coe_admin, unit_a, django_assert_max_num_queries):
    client = api(coe_admin)
    for _ in range(jobs):
        client.post(
            URL, {"file": upload(), "preset": FEDERAL, "dry_run": "true"}, format="multipart"
        )
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    assert response.json()["count"] == jobs


def test_schema_describes_the_upload(coe_admin):
    client = api(coe_admin)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["paths"][URL]["post"]
    body = create["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body == {"$ref": "#/components/schemas/ImportUploadRequest"}
    fields = schema["components"]["schemas"]["ImportUploadRequest"]["properties"]
    assert {"file", "preset", "dry_run", "create_units", "mapping"} <= set(fields)
    assert set(create["responses"]) >= {"201", "400", "403"}
