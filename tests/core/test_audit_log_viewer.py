"""The audit-log viewer (issue 19): scope, filters, detail with the chain position, export,
the stored verification, and the History section of initiatives, models and requests."""

import csv
import io

import pytest
from django.urls import reverse

from core.audit import record_event
from core.choices import Role
from core.models import AuditEvent, AuditVerification
from core.selectors import audit_event_list
from portfolio.initiatives import services
from tests.factories import AIModelFactory, member

pytestmark = pytest.mark.django_db


def create_initiative(actor, unit, title):
    return services.initiative_create(
        actor=actor, data={"title": title, "business_unit": unit, "accountable_owner": actor}
    )


@pytest.fixture
def lead_a(unit_a):
    return member(Role.BU_LEAD, unit_a, username="lena")


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita")


@pytest.fixture
def events(member_a, member_b, unit_a, unit_b):
    """An initiative in each unit (one event each) and an organisation event with no BU."""
    mine = create_initiative(member_a, unit_a, "Claims triage")
    theirs = create_initiative(member_b, unit_b, "Fraud scoring")
    record_event(actor=None, action="organisation.changed", object_type="core.x", object_id="1")
    return mine, theirs


def listed(response):
    """(action, object id) of the listed events, leaving out the sign-in's own events."""
    return [
        (event.action, event.object_id)
        for event in response.context["rows"]
        if event.object_type not in {"session", "user", "login"}
    ]


@pytest.mark.parametrize("role", ["coe_admin", "risk_officer"])
def test_audit_readers_see_every_event(client, events, role, request):
    client.force_login(request.getfixturevalue(role))

    response = client.get(reverse("core:audit_list"))

    mine, theirs = events
    assert response.status_code == 200
    assert listed(response) == [
        ("organisation.changed", "1"),
        ("initiative.created", str(theirs.pk)),
        ("initiative.created", str(mine.pk)),
    ]


def test_bu_lead_sees_only_events_about_their_units_objects(client, events, lead_a):
    mine, theirs = events
    client.force_login(lead_a)

    response = client.get(reverse("core:audit_list"))

    assert response.status_code == 200
    assert [(e.object_id, e.action) for e in response.context["rows"]] == [
        (str(mine.pk), "initiative.created")
    ]
    other = AuditEvent.objects.get(object_type="portfolio.initiative", object_id=str(theirs.pk))
    assert client.get(reverse("core:audit_detail", args=[other.pk])).status_code == 404
    own = AuditEvent.objects.get(object_type="portfolio.initiative", object_id=str(mine.pk))
    assert client.get(reverse("core:audit_detail", args=[own.pk])).status_code == 200


@pytest.mark.parametrize("role", ["member_a", "coe_reviewer", "executive", "platform_engineer"])
def test_roles_without_audit_access_get_403(client, events, role, request):
    client.force_login(request.getfixturevalue(role))
    event = AuditEvent.objects.first()

    assert client.get(reverse("core:audit_list")).status_code == 403
    assert client.get(reverse("core:audit_detail", args=[event.pk])).status_code == 403
    assert client.get(reverse("core:audit_list_csv")).status_code == 403
    assert client.post(reverse("core:audit_verify")).status_code == 403
    assert not AuditVerification.objects.exists()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("core:audit_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_filters_by_actor_action_object_unit_and_dates(client, events, coe_admin, unit_b):
    mine, theirs = events
    client.force_login(coe_admin)
    url = reverse("core:audit_list")

    created_theirs, created_mine = (
        ("initiative.created", str(theirs.pk)),
        (
            "initiative.created",
            str(mine.pk),
        ),
    )
    assert listed(client.get(url, {"actor": "bob"})) == [created_theirs]
    assert listed(client.get(url, {"action": "organisation"})) == [("organisation.changed", "1")]
    assert listed(
        client.get(url, {"object_type": "portfolio.initiative", "object_id": mine.pk})
    ) == [created_mine]
    assert listed(client.get(url, {"business_unit": unit_b.pk})) == [created_theirs]
    today = AuditEvent.objects.first().created_at.date()
    assert len(listed(client.get(url, {"since": today, "until": today}))) == 3
    assert listed(client.get(url, {"until": "2000-01-01"})) == []
    response = client.get(url, {"action": "nothing-like-this"})
    assert b"No audit events match these filters" in response.content


def test_empty_log_has_an_empty_state(client, lead_a):
    client.force_login(lead_a)
    response = client.get(reverse("core:audit_list"))
    assert not response.context["rows"]  # a BU filter nobody matches shows the same state
    assert b"No audit events you may read yet" in response.content
    assert b"has not been verified yet" in response.content


def test_detail_shows_payload_chain_position_and_verifies(client, events, coe_admin):
    client.force_login(coe_admin)
    first, second = AuditEvent.objects.order_by("sequence")[:2]
    assert second.sequence == first.sequence + 1

    response = client.get(reverse("core:audit_detail", args=[second.pk]))

    body = response.content.decode()
    assert second.hash in body and first.hash in body  # own and previous hash
    assert "&quot;action&quot;: &quot;initiative.created&quot;" in body  # pretty JSON
    assert response.context["problem"] == ""
    assert "verifies" in body


def test_detail_reports_a_tampered_event(client, events, coe_admin):
    event = AuditEvent.objects.order_by("sequence")[1]
    event.payload = event.payload.replace("Fraud", "Froud")  # in memory: the page's check
    from core.audit import event_verifies

    first = AuditEvent.objects.order_by("sequence")[0]
    assert "hash mismatch" in event_verifies(event, first.hash)
    assert "previous-hash" in event_verifies(AuditEvent.objects.get(pk=event.pk), "x")


def test_verify_now_stores_the_result_shown_on_the_page(
    client, events, coe_admin, django_capture_on_commit_callbacks
):
    client.force_login(coe_admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:audit_verify"))

    assert response.status_code == 302
    verification = AuditVerification.objects.get()
    assert verification.ok and verification.checked == AuditEvent.objects.count()
    assert verification.requested_by == coe_admin
    page = client.get(reverse("core:audit_list")).content.decode()
    assert f"Chain intact: {verification.checked} events verified" in page
    detail = client.get(reverse("core:audit_detail", args=[AuditEvent.objects.first().pk]))
    assert detail.context["covered"]


def test_risk_officer_reads_but_cannot_start_a_verification(client, risk_officer):
    client.force_login(risk_officer)
    assert b"Verify now" not in client.get(reverse("core:audit_list")).content
    assert client.post(reverse("core:audit_verify")).status_code == 403


def test_nightly_task_stores_its_result():
    from core.tasks import verify_audit_chain_task

    verify_audit_chain_task.delay().get()

    assert AuditVerification.objects.get().requested_by is None


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_export_keeps_the_filters_and_scope(client, events, lead_a, extension):
    client.force_login(lead_a)

    response = client.get(reverse(f"core:audit_list_{extension}"), {"action": "created"})

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    if extension == "csv":
        rows = list(csv.reader(io.StringIO(content.decode())))
        assert rows[0][:4] == ["Sequence", "Recorded at", "Actor", "Action"]
        assert [row[5] for row in rows[1:]] == [str(events[0].pk)]


def test_export_defuses_formulas(client, coe_admin):
    record_event(actor=None, action="=HYPERLINK(1)", object_type="core.x", object_id="1")
    client.force_login(coe_admin)

    content = b"".join(client.get(reverse("core:audit_list_csv")).streaming_content).decode()

    assert "'=HYPERLINK(1)" in content


def make_events(count, actor, unit):
    for index in range(count):
        create_initiative(actor, unit, f"Initiative {index}")


@pytest.mark.parametrize("reader", ["coe_admin", "lead_a"])
def test_list_query_count_does_not_grow_with_rows(
    client, reader, member_a, unit_a, request, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(reader))
    make_events(2, member_a, unit_a)
    client.get(reverse("core:audit_list"))  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("core:audit_list"))
    make_events(12, member_a, unit_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("core:audit_list"))
    assert len(response.context["rows"]) == 14


def test_selector_scope_for_bu_lead_of_a_model(lead_a, unit_a, unit_b):
    mine = AIModelFactory(business_unit=unit_a)
    theirs = AIModelFactory(business_unit=unit_b)
    record_event(actor=None, action="model.changed", target=mine)
    record_event(actor=None, action="model.changed", target=theirs)

    assert [e.object_id for e in audit_event_list(user=lead_a)] == [str(mine.pk)]


def test_initiative_detail_has_a_history_section(client, member_a, unit_a):
    initiative = create_initiative(member_a, unit_a, "Claims triage")
    client.force_login(member_a)

    response = client.get(initiative.get_absolute_url())

    assert [e.action for e in response.context["history"]] == ["initiative.created"]
    assert b"History" in response.content
    assert not response.context["history_linked"]  # a BU member cannot open the audit log


def test_model_detail_history_lists_the_model_events(client, coe_admin, unit_a):
    model = AIModelFactory(business_unit=unit_a)
    record_event(actor=coe_admin, action="model.updated", target=model, reason="=cmd")
    client.force_login(coe_admin)

    response = client.get(reverse("inventory:model_detail", args=[model.pk]))

    assert [e.action for e in response.context["history"]] == ["model.updated"]
    assert response.context["history_linked"]
    assert reverse("core:audit_list").encode() in response.content


def test_nav_link_for_those_who_read_the_log(client, coe_admin, lead_a, unit_a):
    # A BU lead reads the events about their units' objects, so the grouped menu shows it.
    client.force_login(coe_admin)
    assert b'href="/audit/"' in client.get(reverse("home")).content
    client.force_login(lead_a)
    assert b'href="/audit/"' in client.get(reverse("home")).content
    client.force_login(member(Role.BU_MEMBER, unit_a))
    assert b'href="/audit/"' not in client.get(reverse("home")).content
