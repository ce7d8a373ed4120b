"""Generated reports (``governance.reporting.services`` and its views): requesting a board pack or a
dossier, the build with its progress, who may see and download what, failures and the
30-day retention. Every PDF here is rendered for real (WeasyPrint) into a temporary private
storage; the demo-data board pack and the command are in ``test_board_pack_pdf.py``."""

import datetime
import json
import re
import time
from io import BytesIO

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from config.celery import app
from core.choices import Role
from core.models import AuditEvent, Membership
from governance.reporting import services as reports
from governance.reporting.choices import ReportKind, ReportStatus
from governance.reporting.dashboard import dashboard_filters
from governance.reporting.models import REPORT_RETENTION_DAYS, ReportFile
from governance.reporting.panels import DashboardFilters

# The worker tests' fixture: the project's app on the configured broker, its own queue.
from tests.core.test_celery_worker import worker_app  # noqa: F401
from tests.factories import InitiativeFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.KEEL_PRIVATE_STORAGE = tmp_path / "private"
    return settings.KEEL_PRIVATE_STORAGE


@pytest.fixture(autouse=True)
def fresh_cache():
    """The dashboard caches its figures; no test sees another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bu_lead(unit_a):
    return member(Role.BU_LEAD, unit_a, username="leo")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_report(user, *, status=ReportStatus.READY, content=b"%PDF-1.7 test", **fields):
    """A report row as a finished build leaves it (built directly, for the view tests)."""
    now = timezone.now()
    report = ReportFile(
        kind=fields.pop("kind", ReportKind.BOARD_PACK),
        status=status,
        created_by=user,
        created_at=fields.pop("created_at", now),
        expires_at=fields.pop("expires_at", now + datetime.timedelta(days=30)),
        filters_label=fields.pop("filters_label", "All business units · last 6 months"),
        **fields,
    )
    if status == ReportStatus.READY:
        report.file.save("board-pack.pdf", ContentFile(content), save=False)
        report.size_bytes, report.page_count, report.progress = len(content), 2, 100
    report.save()
    return report


PROGRESS_VALUE = re.compile(r'<progress id="report-progress" max="100" value="(\d+)">')


def wait_until_finished(client, report, timeout: float) -> list[int]:
    """Poll the progress partial as the page does (htmx, every 100 ms here) until it stops
    polling; returns the progress values seen."""
    deadline = time.monotonic() + timeout
    url = reverse("dashboard:report_detail", args=[report.pk])
    seen = []
    while time.monotonic() < deadline:
        body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        match = PROGRESS_VALUE.search(body)
        if match and (not seen or seen[-1] != int(match.group(1))):
            seen.append(int(match.group(1)))
        if "hx-trigger" not in body:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"the report was not built within {timeout} s (progress {seen})")


def requested_events():
    return AuditEvent.objects.filter(action="report.requested")


# --- Requesting a board pack ----------------------------------------------------------------


def test_board_pack_request_queues_after_commit_and_builds_the_pdf(
    executive, unit_a, django_capture_on_commit_callbacks
):
    client = client_for(executive)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("dashboard:board_pack_request"),
            {"business_unit": unit_a.pk, "months": "3"},
        )
        report = ReportFile.objects.get()
        # Nothing is built before the commit.
        assert report.status == ReportStatus.QUEUED
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:report_detail", args=[report.pk])
    assert len(callbacks) == 1
    assert report.kind == ReportKind.BOARD_PACK
    assert report.business_unit == unit_a and report.months == 3
    expected_label = dashboard_filters(
        user=executive, params={"business_unit": str(unit_a.pk), "months": "3"}
    ).label()
    assert report.filters_label == expected_label
    assert report.expires_at - report.created_at == datetime.timedelta(days=REPORT_RETENTION_DAYS)
    event = requested_events().get()
    assert event.actor == executive and event.object_id == str(report.pk)

    callbacks[0]()  # the commit: the (eager) task builds the PDF

    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error
    assert report.progress == 100 and report.progress_label == "Ready"
    assert report.started_at and report.finished_at and not report.error
    with report.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    assert report.size_bytes == len(content)
    pdf = PdfReader(BytesIO(content))
    assert report.page_count == len(pdf.pages) > 1
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Board pack" in text and unit_a.name in text


def test_board_pack_request_accepts_post_only(executive):
    response = client_for(executive).get(reverse("dashboard:board_pack_request"))
    assert response.status_code == 405
    assert not ReportFile.objects.exists()


def test_board_pack_request_needs_the_csrf_token(executive):
    client = Client(enforce_csrf_checks=True)
    client.force_login(executive)
    response = client.post(reverse("dashboard:board_pack_request"), {"months": "6"})
    assert response.status_code == 403
    assert not ReportFile.objects.exists()


@pytest.mark.parametrize(
    ("params", "status"),
    [({"months": "5"}, 400), ({"months": "six"}, 400), ({"business_unit": "999999"}, 403)],
)
def test_board_pack_request_validates_the_filters_as_the_dashboard(executive, params, status):
    response = client_for(executive).post(reverse("dashboard:board_pack_request"), params)
    assert response.status_code == status
    assert not ReportFile.objects.exists()
    assert not requested_events().exists()


def test_bu_lead_cannot_ask_for_another_units_board_pack(bu_lead, unit_b):
    response = client_for(bu_lead).post(
        reverse("dashboard:board_pack_request"), {"business_unit": unit_b.pk, "months": "6"}
    )
    assert response.status_code == 403
    assert not ReportFile.objects.exists()
    assert not requested_events().exists()


def test_bu_lead_board_pack_defaults_to_their_unit(bu_lead, unit_a, unit_b):
    response = client_for(bu_lead).post(reverse("dashboard:board_pack_request"), {"months": "6"})
    assert response.status_code == 302
    assert ReportFile.objects.get().business_unit == unit_a


def test_bu_member_board_pack_is_their_unit_only(member_a, unit_a, unit_b):
    client = client_for(member_a)
    refused = client.post(reverse("dashboard:board_pack_request"), {"business_unit": unit_b.pk})
    assert refused.status_code == 403 and not ReportFile.objects.exists()
    response = client.post(reverse("dashboard:board_pack_request"), {"months": "6"})
    assert response.status_code == 302
    assert ReportFile.objects.get().business_unit == unit_a


def test_people_who_cannot_see_the_dashboard_cannot_ask(db):
    nobody = UserFactory(username="no-role")
    response = client_for(nobody).post(reverse("dashboard:board_pack_request"), {})
    assert response.status_code == 403
    assert not ReportFile.objects.exists()
    with pytest.raises(PermissionDenied):
        reports.board_pack_request(actor=nobody, filters=DashboardFilters())
    assert not requested_events().exists()


def test_the_service_rechecks_the_filters_it_is_given(bu_lead, unit_b):
    """A caller that skipped ``dashboard_filters`` still cannot widen the scope."""
    with pytest.raises(PermissionDenied):
        reports.board_pack_request(actor=bu_lead, filters=DashboardFilters(business_unit=unit_b))
    assert not ReportFile.objects.exists()


def test_anonymous_requests_are_sent_to_sign_in():
    response = Client().post(reverse("dashboard:board_pack_request"), {"months": "6"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert not ReportFile.objects.exists()


# --- Dossiers -------------------------------------------------------------------------------


def test_dossier_request_for_an_initiative_outside_scope_is_404(member_b, unit_a, member_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    response = client_for(member_b).post(reverse("dashboard:dossier_request", args=[initiative.pk]))
    assert response.status_code == 404
    assert not ReportFile.objects.exists()
    assert not requested_events().exists()


def test_dossier_request_builds_the_initiatives_dossier(
    member_a, unit_a, django_capture_on_commit_callbacks
):
    initiative = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, title="Mortgage triage"
    )
    client = client_for(member_a)
    assert client.get(reverse("dashboard:dossier_request", args=[initiative.pk])).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboard:dossier_request", args=[initiative.pk]))
    report = ReportFile.objects.get()
    assert response["Location"] == reverse("dashboard:report_detail", args=[report.pk])
    assert report.kind == ReportKind.DOSSIER and report.initiative == initiative
    assert report.filters_label == f"{initiative.reference} Mortgage triage"
    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error
    with report.file.open("rb") as handle:
        text = " ".join(page.extract_text() for page in PdfReader(handle).pages)
    assert initiative.reference in text and "Mortgage triage" in text
    assert reports.download_filename(report).startswith(f"keel-dossier-{initiative.reference}-")


# --- The build ------------------------------------------------------------------------------


def queued_board_pack(user, business_unit=None) -> ReportFile:
    return ReportFile.objects.create(
        kind=ReportKind.BOARD_PACK,
        created_by=user,
        business_unit=business_unit,
        months=6,
        filters_label="test",
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )


PROGRESS_UPDATE = re.compile(r'"progress" = (\d+)')


def test_build_reports_progress_in_steps_then_ready(executive):
    report = queued_board_pack(executive)
    with CaptureQueriesContext(connection) as queries:
        built = reports.report_build(report.pk)
    steps = [
        int(match.group(1))
        for query in queries.captured_queries
        if query["sql"].startswith("UPDATE") and "governance_reportfile" in query["sql"]
        for match in [PROGRESS_UPDATE.search(query["sql"])]
        if match
    ]
    assert steps == [5, 10, 40, 70, 90, 100]
    assert built.status == ReportStatus.READY
    assert built.file.name.startswith(f"reports/{report.created_at:%Y/%m}/keel-board-pack-")


def test_a_redelivered_task_finds_the_report_claimed_and_does_nothing(executive):
    report = queued_board_pack(executive)
    first = reports.report_build(report.pk)
    finished_at, name = first.finished_at, first.file.name

    again = reports.report_build(report.pk)

    assert again.status == ReportStatus.READY
    assert (again.finished_at, again.file.name) == (finished_at, name)
    assert len(list((settings.KEEL_PRIVATE_STORAGE / "reports").rglob("*.pdf"))) == 1


def test_a_running_report_is_left_to_the_task_running_it(executive):
    report = queued_board_pack(executive)
    ReportFile.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, progress=40)
    assert reports.report_build(report.pk).progress == 40
    report.refresh_from_db()
    assert report.status == ReportStatus.RUNNING and not report.file


def test_a_requester_who_lost_access_gets_a_failed_report_with_the_reason(bu_lead, unit_a):
    report = queued_board_pack(bu_lead, business_unit=unit_a)
    Membership.objects.filter(user=bu_lead).delete()

    built = reports.report_build(report.pk)

    assert built.status == ReportStatus.FAILED
    assert "dashboard" in built.error
    assert not built.file and built.finished_at
    assert not (settings.KEEL_PRIVATE_STORAGE / "reports").exists()


def test_a_failed_build_shows_its_reason_on_the_page(executive):
    report = queued_board_pack(executive)
    executive.is_active = False
    executive.save()
    built = reports.report_build(report.pk)
    assert built.status == ReportStatus.FAILED
    assert built.error == "erin is no longer active."

    executive.is_active = True  # to open the page again
    executive.save()
    response = client_for(executive).get(reverse("dashboard:report_detail", args=[report.pk]))
    body = response.content.decode()
    assert 'id="report-error"' in body and "erin is no longer active." in body
    assert "hx-trigger" not in body and 'id="report-download"' not in body


def test_the_task_runs_the_build(executive):
    from governance.reporting.tasks import build_report_task

    report = queued_board_pack(executive)
    assert build_report_task.delay(report.pk).get() == ReportStatus.READY
    assert build_report_task.acks_late is True


# --- Progress partial -----------------------------------------------------------------------


def detail(user, report, **headers):
    return client_for(user).get(reverse("dashboard:report_detail", args=[report.pk]), **headers)


def test_progress_partial_polls_every_second_while_building(executive):
    report = make_report(executive, status=ReportStatus.RUNNING)
    ReportFile.objects.filter(pk=report.pk).update(progress=40, progress_label="Drawing the charts")

    page = detail(executive, report).content.decode()
    partial = detail(executive, report, HTTP_HX_REQUEST="true")

    assert "<html" in page and 'id="report-status"' in page
    body = partial.content.decode()
    assert "<html" not in body
    assert body.strip().startswith("<section") and 'id="report-status"' in body
    url = reverse("dashboard:report_detail", args=[report.pk])
    assert f'hx-get="{url}"' in body and 'hx-trigger="every 1s"' in body
    assert re.search(r'<progress id="report-progress" max="100" value="40">', body)
    assert "Drawing the charts" in body
    assert 'id="report-download"' not in body
    assert "HX-Request" in partial["Vary"]


def test_progress_partial_stops_polling_and_offers_the_download_when_ready(executive):
    report = make_report(executive)
    body = detail(executive, report, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in body
    download = reverse("dashboard:report_download", args=[report.pk])
    assert re.search(rf'id="report-download" href="{download}"', body)
    assert 'value="100"' in body


def test_an_expired_report_says_so_and_offers_no_download(executive):
    report = make_report(executive, status=ReportStatus.EXPIRED)
    body = detail(executive, report).content.decode()
    assert 'id="report-expired"' in body and 'id="report-download"' not in body


def test_another_users_report_is_404_everywhere(executive, coe_admin):
    report = make_report(executive)
    for name in ("report_detail", "report_download"):
        response = client_for(coe_admin).get(reverse(f"dashboard:{name}", args=[report.pk]))
        assert response.status_code == 404


# --- Download -------------------------------------------------------------------------------


def test_download_streams_the_pdf_as_an_attachment(executive, unit_a):
    report = make_report(executive, content=b"%PDF-1.7 the board pack", business_unit=unit_a)
    response = client_for(executive).get(reverse("dashboard:report_download", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="keel-board-pack-RETAIL-{day}.pdf"'
    )
    assert b"".join(response.streaming_content) == b"%PDF-1.7 the board pack"


def test_a_ready_report_whose_file_is_gone_is_a_404_not_a_500(executive):
    report = make_report(executive, content=b"%PDF-1.7 soon gone")
    report.file.storage.delete(report.file.name)
    response = client_for(executive).get(reverse("dashboard:report_download", args=[report.pk]))
    assert response.status_code == 404


def test_a_report_not_ready_cannot_be_downloaded(executive):
    for status in (ReportStatus.QUEUED, ReportStatus.RUNNING, ReportStatus.FAILED):
        report = make_report(executive, status=status)
        url = reverse("dashboard:report_download", args=[report.pk])
        assert client_for(executive).get(url).status_code == 404


def test_download_after_the_retention_is_gone(executive):
    report = make_report(executive, status=ReportStatus.EXPIRED)
    response = client_for(executive).get(reverse("dashboard:report_download", args=[report.pk]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()

    # Past its expiry but not purged yet: gone too, and the list no longer offers it.
    stale = make_report(executive, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    url = reverse("dashboard:report_download", args=[stale.pk])
    assert client_for(executive).get(url).status_code == 410
    assert url not in client_for(executive).get(reverse("dashboard:report_list")).text


# --- List -----------------------------------------------------------------------------------


def test_list_shows_only_the_users_reports_paginated(
    executive, coe_admin, django_assert_max_num_queries
):
    mine = [make_report(executive, filters_label=f"Mine {number}") for number in range(30)]
    make_report(coe_admin, filters_label="Someone else's")
    client = client_for(executive)
    with django_assert_max_num_queries(7):  # no query per row (select_related)
        response = client.get(reverse("dashboard:report_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Someone else" not in body
    assert "Mine 29" in body and "Mine 4" not in body  # newest first, 25 a page
    assert "30 results" in body
    assert reverse("dashboard:report_download", args=[mine[-1].pk]) in body
    assert reverse("dashboard:report_download", args=[mine[0].pk]) not in body  # page 2
    assert 'id="board-pack-form"' in body and "csrfmiddlewaretoken" in body

    second = client.get(reverse("dashboard:report_list"), {"page": 2}, HTTP_HX_REQUEST="true")
    body = second.content.decode()
    assert "<html" not in body and "Mine 4" in body and "Mine 5" not in body


def test_list_empty_state(member_a, db):
    response = client_for(member_a).get(reverse("dashboard:report_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="empty"' in body and "No reports yet" in body
    assert 'id="board-pack-form"' in body  # a BU member asks for their unit's board pack
    nobody = client_for(UserFactory(username="no-role")).get(reverse("dashboard:report_list"))
    assert 'id="board-pack-form"' not in nobody.content.decode()  # no role, no board pack


# --- Retention ------------------------------------------------------------------------------


def test_purge_deletes_expired_files_and_keeps_the_rows(executive):
    now = timezone.now()
    old = make_report(executive, expires_at=now - datetime.timedelta(hours=1))
    failed = make_report(
        executive, status=ReportStatus.FAILED, expires_at=now - datetime.timedelta(hours=1)
    )
    fresh = make_report(executive, expires_at=now + datetime.timedelta(days=1))
    old_path = settings.KEEL_PRIVATE_STORAGE / old.file.name
    assert old_path.exists()

    assert reports.reports_purge_expired(now=now) == 2

    old.refresh_from_db()
    failed.refresh_from_db()
    fresh.refresh_from_db()
    assert not old_path.exists()
    assert old.status == ReportStatus.EXPIRED and not old.file
    assert failed.status == ReportStatus.EXPIRED
    assert fresh.status == ReportStatus.READY
    assert (settings.KEEL_PRIVATE_STORAGE / fresh.file.name).exists()
    event = AuditEvent.objects.get(action="reports.purged")
    assert sorted(json.loads(event.payload)["after"]["reports"]) == sorted([old.pk, failed.pk])
    # Idempotent: nothing more to purge, no new event.
    assert reports.reports_purge_expired(now=now) == 0
    assert AuditEvent.objects.filter(action="reports.purged").count() == 1


def test_builds_whose_worker_stopped_are_failed_with_the_reason(client, executive):
    now = timezone.now()
    stuck = make_report(
        executive, status=ReportStatus.RUNNING, created_at=now - datetime.timedelta(hours=3)
    )
    waiting = make_report(
        executive, status=ReportStatus.QUEUED, created_at=now - datetime.timedelta(hours=5)
    )
    recent = make_report(
        executive, status=ReportStatus.RUNNING, created_at=now - datetime.timedelta(minutes=20)
    )
    assert reports.reports_fail_stale(now=now) == 2
    for report in (stuck, waiting, recent):
        report.refresh_from_db()
    assert stuck.status == waiting.status == ReportStatus.FAILED
    assert stuck.error == reports.STALE_REASON
    assert recent.status == ReportStatus.RUNNING
    client.force_login(executive)
    page = client.get(f"/dashboard/reports/{stuck.pk}/").content.decode()
    assert "The background worker stopped" in page
    assert 'hx-trigger="every 1s"' not in page


def test_purge_runs_daily_from_beat():
    from governance.reporting.tasks import purge_expired_reports_task

    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "governance.tasks.purge_expired_reports_task"
    ]
    assert len(entries) == 1
    assert entries[0]["task"] in app.tasks
    assert purge_expired_reports_task.delay().get() == 0


# --- A real worker --------------------------------------------------------------------------


@pytest.fixture
def worker_closes_its_connection():
    """The worker thread's own database connection is closed after each build, so the test
    database can be flushed and dropped."""
    from celery.signals import task_postrun

    def on_postrun(sender=None, **kwargs):
        if sender is not None and sender.name == "governance.tasks.build_report_task":
            connection.close()

    task_postrun.connect(on_postrun, weak=False)
    yield
    task_postrun.disconnect(on_postrun)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker_closes_its_connection")
def test_a_real_worker_builds_the_board_pack_after_commit(worker_app, executive, unit_a):  # noqa: F811
    """Not eager: the request commits, a worker consuming the configured broker (Redis)
    builds the PDF through its own connection, and the page polls it to the end."""
    from celery.contrib.testing.worker import start_worker

    celery_app, queue = worker_app
    client = client_for(executive)
    with start_worker(
        celery_app,
        pool="solo",
        loglevel="WARNING",
        perform_ping_check=False,
        queues=[queue],
        shutdown_timeout=10,
    ):
        response = client.post(
            reverse("dashboard:board_pack_request"), {"business_unit": unit_a.pk, "months": "6"}
        )
        report = ReportFile.objects.get()
        assert response["Location"] == reverse("dashboard:report_detail", args=[report.pk])
        seen = wait_until_finished(client, report, timeout=60)

    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error
    assert report.task_id  # queued through the broker, not run in this thread
    assert seen[-1] == 100 and seen == sorted(seen)
    download = client.get(reverse("dashboard:report_download", args=[report.pk]))
    content = b"".join(download.streaming_content)
    assert len(PdfReader(BytesIO(content)).pages) == report.page_count > 1
