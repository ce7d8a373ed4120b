"""The bulk inventory import pages (``/governance/imports/``): upload → column mapping →
dry run → confirm → progress and result, through the real services and the Celery task (run
in-process); permissions, CSRF and the history's query count."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.choices import Role
from governance.imports import services as import_services
from governance.imports.choices import ImportStatus
from governance.imports.models import ImportJob, ImportPreset
from portfolio.initiatives.models import Initiative
from tests.factories import member

pytestmark = pytest.mark.django_db

FEDERAL = "us-federal-2024"
# "Lead person" is no header the federal preset knows: it is mapped by hand. Line 4 has a
# stage no synonym table knows: rejected.
CSV = (
    b"Use Case Name,Agency,Stage of Development,Lead person,Date Initiated\n"
    b"Benefits chatbot,RETAIL,Operation and Maintenance,dana,10/1/2023\n"
    b"Fraud triage,Retail Banking,Implementation and Assessment,Zed Unknown,2023-10-01\n"
    b"Dream machine,RETAIL,Dreaming,dana,Oct 2023\n"
)
COLUMNS = ["Use Case Name", "Agency", "Stage of Development", "Lead person", "Date Initiated"]


def csv_upload(content=CSV, name="inventory.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def signed_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def select_values(html: str) -> dict[str, str]:
    """The mapping form's ``column_<n>`` selects → their selected option."""
    values = {}
    for name, body in re.findall(r'<select name="(column_\d+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        values[name] = selected.group(1) if selected else ""
    return values


def mapping_post(html: str, **overrides) -> dict:
    data = select_values(html)
    data.update(overrides)
    return data


@pytest.fixture
def bu_lead(unit_a):
    return member(Role.BU_LEAD, unit_a, username="lee")


def upload_job(user, content=CSV, preset=FEDERAL) -> ImportJob:
    return import_services.import_job_create(
        actor=user, filename="inventory.csv", content=content, preset=preset
    )


# --- the whole journey -----------------------------------------------------------------------


def test_upload_map_dry_run_confirm_and_result(
    coe_admin, unit_a, django_capture_on_commit_callbacks
):
    client = signed_in(coe_admin)

    form = client.get(reverse("governance:import_upload"))
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.content.decode()

    response = client.post(
        reverse("governance:import_upload"), {"file": csv_upload(), "preset": FEDERAL}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:import_mapping", args=[job.pk])
    assert (job.status, job.total_rows, job.created_by) == (ImportStatus.UPLOADED, 3, coe_admin)
    assert len(job.sha256) == 64

    # The mapping page: one row per column with samples, selects pre-filled by the preset.
    page = client.get(response["Location"])
    html = page.content.decode()
    for header in COLUMNS:
        assert f'<th scope="row">{header}</th>' in html
    assert "Zed Unknown" in html and "Oct 2023" in html  # sample values
    suggested = select_values(html)
    assert suggested == {
        "column_0": "title",
        "column_1": "business_unit",
        "column_2": "stage",
        "column_3": "",  # "Lead person": not suggested
        "column_4": "initiated_on",
    }
    assert 'for="id_column_3">Keel field for Lead person</label>' in html

    # Map "Lead person" by hand and run the dry run.
    response = client.post(
        reverse("governance:import_mapping", args=[job.pk]),
        mapping_post(html, column_3="accountable_owner"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:import_preview", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED
    assert job.mapping["Lead person"] == "accountable_owner"
    assert Initiative.objects.count() == 0  # a dry run writes nothing

    preview = client.get(response["Location"]).content.decode()
    counts = re.search(r'<dl class="facts" id="import-counts">(.*?)</dl>', preview, re.S).group(1)
    assert dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", counts)) == {
        "To create": "2",
        "To update": "0",
        "To skip": "0",
        "Rejected": "1",
        "Placeholder people": 'placeholder-zed-unknown <span class="helptext">'
        "(owner to confirm)</span>",
    }
    rejected = re.search(r'id="import-rejected">(.*?)</section>', preview, re.S).group(1)
    assert "1 rejected row" in rejected
    assert "<td>Line 4</td>" in rejected and "unknown stage &#x27;Dreaming&#x27;" in rejected
    assert "Line 3: &#x27;Zed Unknown&#x27; is not a Keel user" in preview  # a warning
    assert "Confirm and import 2 rows" in preview

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("governance:import_confirm", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED

    detail = client.get(response["Location"]).content.decode()
    assert 'value="100"' in detail and "3 of 3 rows (100 %)" in detail
    assert "hx-trigger" not in detail  # finished: no polling
    imported = re.search(r'id="imported-initiatives">(.*?)</div>', detail, re.S).group(1)
    created = Initiative.objects.order_by("reference")
    assert [i.title for i in created] == ["Benefits chatbot", "Fraud triage"]
    for initiative in created:
        assert initiative.get_absolute_url() in imported and initiative.title in imported
    assert imported.count("owner to confirm") == 1  # Zed Unknown is a placeholder
    chatbot = created.get(title="Benefits chatbot")
    assert (chatbot.accountable_owner, chatbot.owner_to_confirm) == (coe_admin, False)

    # Confirming twice is refused (the job is no longer previewed) and imports nothing more.
    again = client.post(reverse("governance:import_confirm", args=[job.pk]), follow=True)
    assert "can be confirmed, once" in again.content.decode()
    assert Initiative.objects.count() == 2

    # A finished job's mapping page leads to the job, not to a second dry run.
    mapping = client.get(reverse("governance:import_mapping", args=[job.pk]))
    assert mapping.status_code == 302 and mapping["Location"] == job.get_absolute_url()

    # The history lists it with who, when and the file's hash.
    history = client.get(reverse("governance:import_list")).content.decode()
    assert job.get_absolute_url() in history and job.sha256 in history
    assert "inventory.csv" in history and "Imported" in history


def test_progress_partial_polls_while_queued_and_stops_when_done(coe_admin, unit_a):
    job = upload_job(coe_admin)
    import_services.import_job_preview(actor=coe_admin, job=job, mapping=job.mapping, options={})
    # Confirmed; without on_commit callbacks run the task has not started: still queued.
    import_services.import_job_confirm(actor=coe_admin, job=job)
    client = signed_in(coe_admin)
    url = reverse("governance:import_progress", args=[job.pk])

    queued = client.get(url, HTTP_HX_REQUEST="true")
    html = queued.content.decode()
    assert queued.status_code == 200 and "<html" not in html
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert 'value="0"' in html and "Queued" in html
    assert "HX-Request" in queued["Vary"]
    detail = client.get(job.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 1s"' in detail

    import_services.import_job_run(job.pk)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert 'value="100"' in done and 'id="imported-initiatives"' in done


def test_mapping_errors_stay_on_the_form(coe_admin, unit_a):
    job = upload_job(coe_admin)
    client = signed_in(coe_admin)
    url = reverse("governance:import_mapping", args=[job.pk])
    html = client.get(url).content.decode()

    # The same field twice: the form says which column already has it.
    twice = client.post(url, mapping_post(html, column_3="title"))
    assert twice.status_code == 200
    assert "“Use Case Name” is already mapped to this field." in twice.content.decode()

    # No column for a required field: the service's "mapping" error shows on the form.
    missing = client.post(url, mapping_post(html, column_0=""))
    assert missing.status_code == 200
    assert "Map a column to Title." in missing.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED and job.preview == {}


def test_mapping_saved_as_a_preset_is_offered_for_the_next_file(coe_admin, unit_a):
    job = upload_job(coe_admin)
    client = signed_in(coe_admin)
    url = reverse("governance:import_mapping", args=[job.pk])
    html = client.get(url).content.decode()
    data = mapping_post(html, column_3="accountable_owner", save_preset_as="Agency sheet")
    response = client.post(url, data, follow=True)
    assert "Saved the mapping as “Agency sheet”." in response.content.decode()
    preset = ImportPreset.objects.get(name="Agency sheet")
    assert preset.mapping["Lead person"] == "accountable_owner"

    upload = client.get(reverse("governance:import_upload")).content.decode()
    assert '<option value="Agency sheet">' in upload
    client.post(
        reverse("governance:import_upload"), {"file": csv_upload(), "preset": "Agency sheet"}
    )
    second = ImportJob.objects.latest("pk")
    mapped = select_values(
        client.get(reverse("governance:import_mapping", args=[second.pk])).content.decode()
    )
    assert mapped["column_3"] == "accountable_owner"


def test_unreadable_file_is_refused_on_the_form(coe_admin):
    client = signed_in(coe_admin)
    response = client.post(
        reverse("governance:import_upload"),
        {"file": csv_upload(b"", name="empty.csv"), "preset": FEDERAL},
    )
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    wrong_type = client.post(
        reverse("governance:import_upload"),
        {"file": csv_upload(b"%PDF-1.4", name="inventory.pdf"), "preset": FEDERAL},
    )
    assert "Upload a .csv, .xlsx or .xls file." in wrong_type.content.decode()
    assert ImportJob.objects.count() == 0


# --- permissions -----------------------------------------------------------------------------


def test_bu_member_may_not_import(member_a, coe_admin, unit_a):
    job = upload_job(coe_admin)
    client = signed_in(member_a)
    assert client.get(reverse("governance:import_upload")).status_code == 403
    refused = client.post(
        reverse("governance:import_upload"), {"file": csv_upload(), "preset": FEDERAL}
    )
    assert refused.status_code == 403
    assert ImportJob.objects.count() == 1
    # Someone else's job is not even visible.
    for name in ("import_detail", "import_mapping", "import_preview", "import_progress"):
        assert client.get(reverse(f"governance:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("governance:import_confirm", args=[job.pk])).status_code == 404
    history = client.get(reverse("governance:import_list"))
    assert history.status_code == 200
    html = history.content.decode()
    assert "No inventory imported yet." in html
    assert reverse("governance:import_upload") not in html


def test_bu_lead_sees_only_own_imports(bu_lead, coe_admin, unit_a):
    theirs = upload_job(coe_admin)
    mine = upload_job(bu_lead)
    client = signed_in(bu_lead)
    html = client.get(reverse("governance:import_list")).content.decode()
    assert mine.get_absolute_url() in html
    assert theirs.get_absolute_url() not in html
    assert reverse("governance:import_upload") in html
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(mine.get_absolute_url()).status_code == 200

    # The CoE admin sees both.
    admin_html = signed_in(coe_admin).get(reverse("governance:import_list")).content.decode()
    assert mine.get_absolute_url() in admin_html and theirs.get_absolute_url() in admin_html


def test_forms_need_the_csrf_token(coe_admin, unit_a):
    client = signed_in(coe_admin, enforce_csrf_checks=True)
    url = reverse("governance:import_upload")
    page = client.get(url).content.decode()
    refused = client.post(url, {"file": csv_upload(), "preset": FEDERAL})
    assert refused.status_code == 403 and ImportJob.objects.count() == 0

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    accepted = client.post(
        url, {"file": csv_upload(), "preset": FEDERAL, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    job = ImportJob.objects.get()

    mapping_url = reverse("governance:import_mapping", args=[job.pk])
    html = client.get(mapping_url).content.decode()
    assert client.post(mapping_url, mapping_post(html)).status_code == 403
    assert (
        client.post(mapping_url, mapping_post(html, csrfmiddlewaretoken=token)).status_code == 302
    )
    preview = client.get(reverse("governance:import_preview", args=[job.pk])).content.decode()
    assert 'name="csrfmiddlewaretoken"' in preview
    confirm_url = reverse("governance:import_confirm", args=[job.pk])
    assert client.post(confirm_url).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED


# --- the history -----------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [3, 9])
def test_history_query_count_does_not_grow(jobs, coe_admin, bu_lead, django_assert_max_num_queries):
    for index in range(jobs):
        upload_job(coe_admin if index % 2 else bu_lead)
    client = signed_in(coe_admin)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("governance:import_list"))
    assert response.content.decode().count("<tr>") == jobs + 1  # header + one per job


def test_reimport_previews_updates_with_their_changes(coe_admin, unit_a):
    first = upload_job(coe_admin)
    import_services.import_job_preview(
        actor=coe_admin, job=first, mapping=first.mapping, options={}
    )
    import_services.import_job_confirm(actor=coe_admin, job=first)
    import_services.import_job_run(first.pk)
    assert Initiative.objects.count() == 2

    changed = CSV.replace(b"dana,10/1/2023", b"dana,11/1/2023")
    client = signed_in(coe_admin)
    client.post(
        reverse("governance:import_upload"), {"file": csv_upload(changed), "preset": FEDERAL}
    )
    second = ImportJob.objects.latest("pk")
    url = reverse("governance:import_mapping", args=[second.pk])
    client.post(url, mapping_post(client.get(url).content.decode()))
    preview = client.get(reverse("governance:import_preview", args=[second.pk])).content.decode()
    update_row = re.search(r'<tr class="import-row-update">(.*?)</tr>', preview, re.S).group(1)
    assert "Benefits chatbot" in update_row and "Changes: initiated_on" in update_row
    assert "Confirm and import 1 row</button>" in preview
    assert Initiative.objects.count() == 2
