"""Webhooks set up in Keel's own pages (issue 19, item 8): administrators and CoE admins list,
create and edit webhooks, switch them on and off, rotate the secret (shown once), send a
test event to a real receiver and see the deliveries; everyone else gets a 403. Every change
goes through the audited services in ``core.services``."""

import json

import pytest
from django.urls import reverse

from core import services
from core.choices import NotificationKind, Role
from core.models import WEBHOOK_TEST_EVENT, AuditEvent, Webhook, WebhookDelivery
from tests.core import test_webhooks
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db

# The live HTTP receiver of the webhook delivery tests (a thread on 127.0.0.1 that checks
# the signature the way a receiver would).
receiver = test_webhooks.receiver
eager_retries = test_webhooks.eager_retries


@pytest.fixture
def administrator(unit_a):
    return member(Role.ADMIN, unit_a, username="ada")


def make(actor, url="https://hooks.example.com/keel", **data):
    return services.webhook_create(actor=actor, data={"name": "Ops chat", "url": url, **data})


def post_action(client, webhook, action):
    return client.post(reverse("core:webhook_action", args=[webhook.pk, action]))


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        Role.BU_MEMBER,
        Role.BU_LEAD,
        Role.COE_REVIEWER,
        Role.RISK_OFFICER,
        Role.EXECUTIVE,
        Role.PLATFORM_ENGINEER,
    ],
)
def test_only_administrators_and_coe_admins_open_the_pages(client, unit_a, coe_admin, role):
    webhook = make(coe_admin)
    before = AuditEvent.objects.count()
    client.force_login(member(role, unit_a, username=f"user-{role}"))
    pages = [
        reverse("core:webhooks"),
        reverse("core:webhook_create"),
        reverse("core:webhook_detail", args=[webhook.pk]),
    ]
    for address in pages:
        assert client.get(address).status_code == 403, address
    for action in ("activate", "deactivate", "rotate", "test", "delete"):
        assert post_action(client, webhook, action).status_code == 403, action
    created = client.post(reverse("core:webhook_create"), {"name": "x", "url": webhook.url})
    assert created.status_code == 403
    assert Webhook.objects.count() == 1 and not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_staff_user_without_the_role_is_refused_too(client, unit_b):
    client.force_login(UserFactory(is_staff=True, username="staffer"))
    assert client.get(reverse("core:webhooks")).status_code == 403


@pytest.mark.parametrize("who", ["administrator", "coe_admin"])
def test_administrators_and_coe_admins_see_the_list(client, request, who):
    actor = request.getfixturevalue(who)
    make(actor, name="Ops chat")
    client.force_login(actor)
    page = client.get(reverse("core:webhooks"))
    assert page.status_code == 200
    assert "Ops chat" in page.content.decode()
    assert "https://hooks.example.com/keel" in page.content.decode()


# --- Create and edit --------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_audits_without_it(client, coe_admin, unit_a):
    client.force_login(coe_admin)
    response = client.post(
        reverse("core:webhook_create"),
        {
            "name": "Risk feed",
            "url": "hooks.example.com/risk",  # no scheme typed: https is assumed
            "business_unit": unit_a.pk,
            "kinds": [NotificationKind.GATE_BLOCKED, NotificationKind.APPROVAL_DECIDED],
        },
    )
    webhook = Webhook.objects.get(name="Risk feed")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    assert webhook.secret in response.content.decode()
    assert webhook.url == "https://hooks.example.com/risk"
    assert webhook.business_unit == unit_a
    assert set(webhook.kinds) == {"gate_blocked", "approval_decided"}
    event = AuditEvent.objects.get(action="webhook.created")
    assert event.actor == coe_admin and webhook.secret not in event.payload
    # Shown once: the webhook's own page never shows it again.
    again = client.get(reverse("core:webhook_detail", args=[webhook.pk]))
    assert webhook.secret not in again.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"url": "not a url"}, "url", "valid URL"),
        ({"url": "http://hooks.example.com/keel"}, "url", "https://"),
        ({"kinds": ["no_such_kind"]}, "kinds", "Select a valid choice"),
    ],
)
def test_refusals_land_on_their_field_and_write_nothing(
    client, coe_admin, settings, data, field, message
):
    settings.DEBUG = False
    client.force_login(coe_admin)
    posted = {"name": "Ops chat", "url": "https://hooks.example.com/keel", **data}
    response = client.post(reverse("core:webhook_create"), posted)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not Webhook.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="webhook.").exists()


def test_edit_changes_the_settings_through_the_service(client, coe_admin, unit_a, settings):
    webhook = make(coe_admin)
    client.force_login(coe_admin)
    address = reverse("core:webhook_detail", args=[webhook.pk])
    response = client.post(
        address,
        {"name": "Ops", "url": webhook.url, "business_unit": unit_a.pk, "kinds": ["model_drift"]},
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.name, webhook.business_unit, webhook.kinds) == ("Ops", unit_a, ["model_drift"])
    event = AuditEvent.objects.get(action="webhook.updated")
    assert json.loads(event.payload)["after"]["name"] == "Ops"

    settings.DEBUG = False
    refused = client.post(address, {"name": "Ops", "url": "http://plain.example.com/"})
    assert "url" in refused.context["form"].errors
    webhook.refresh_from_db()
    assert webhook.url == "https://hooks.example.com/keel"


# --- Actions ----------------------------------------------------------------------------------


def test_deactivate_and_activate_are_audited(client, coe_admin):
    webhook = make(coe_admin)
    client.force_login(coe_admin)
    assert post_action(client, webhook, "deactivate").status_code == 302
    webhook.refresh_from_db()
    assert not webhook.is_active
    page = client.get(reverse("core:webhook_detail", args=[webhook.pk])).content.decode()
    assert ">Send a test event</button>" not in page and ">Activate</button>" in page
    post_action(client, webhook, "activate")
    webhook.refresh_from_db()
    assert webhook.is_active
    actions = list(
        AuditEvent.objects.filter(action__in=["webhook.activated", "webhook.deactivated"])
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["webhook.deactivated", "webhook.activated"]


def test_rotating_shows_the_new_secret_once(client, coe_admin):
    webhook = make(coe_admin)
    old = webhook.secret
    client.force_login(coe_admin)
    response = post_action(client, webhook, "rotate")
    webhook.refresh_from_db()
    assert webhook.secret != old
    assert webhook.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="webhook.secret_rotated").count() == 1


def test_delete_is_audited(client, coe_admin):
    webhook = make(coe_admin)
    client.force_login(coe_admin)
    response = post_action(client, webhook, "delete")
    assert response.status_code == 302 and response["Location"] == reverse("core:webhooks")
    assert not Webhook.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.deleted").count() == 1


def test_an_unknown_action_is_a_404(client, coe_admin):
    webhook = make(coe_admin)
    client.force_login(coe_admin)
    assert post_action(client, webhook, "explode").status_code == 404


def test_a_test_event_reaches_a_real_receiver_signed(
    client, coe_admin, unit_a, receiver, django_capture_on_commit_callbacks
):
    webhook = make(coe_admin, url=receiver.url("/ping"), business_unit=unit_a)
    receiver.secrets["/ping"] = webhook.secret
    client.force_login(coe_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, webhook, "test")
    assert response.status_code == 302

    [received] = receiver.requests
    assert received.signature_valid
    assert received.headers["X-Keel-Event"] == WEBHOOK_TEST_EVENT
    body = received.json
    assert body["event"] == "ping" and body["data"]["test"] is True
    assert body["business_unit"]["code"] == unit_a.code
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert str(delivery.delivery_id) == received.headers["X-Keel-Delivery"]
    assert (delivery.status_code, delivery.attempts) == (200, 1)
    assert delivery.succeeded_at is not None
    event = AuditEvent.objects.get(action="webhook.test_sent")
    assert json.loads(event.payload)["after"]["delivery_id"] == str(delivery.delivery_id)

    page = client.get(reverse("core:webhook_detail", args=[webhook.pk])).content.decode()
    assert "Test event (ping)" in page and "Delivered" in page


def test_a_failing_receiver_shows_on_the_page(
    client, coe_admin, receiver, eager_retries, django_capture_on_commit_callbacks
):
    webhook = make(coe_admin, url=receiver.url("/broken"))
    receiver.secrets["/broken"] = webhook.secret
    receiver.statuses.extend([503] * 10)
    client.force_login(coe_admin)
    with django_capture_on_commit_callbacks(execute=True):
        post_action(client, webhook, "test")
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.status_code == 503 and delivery.succeeded_at is None
    assert delivery.attempts == 7  # the first attempt and the task's six retries
    page = client.get(reverse("core:webhook_detail", args=[webhook.pk])).content.decode()
    assert "Failing" in page and "HTTP 503" in page


def test_a_test_event_needs_an_active_webhook(client, coe_admin):
    webhook = make(coe_admin, is_active=False)
    client.force_login(coe_admin)
    response = post_action(client, webhook, "test")
    assert response.status_code == 302
    assert not WebhookDelivery.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.test_sent").exists()


def test_the_list_costs_the_same_queries_however_many_webhooks(
    client, coe_admin, django_assert_max_num_queries, django_assert_num_queries
):
    for n in range(3):
        make(coe_admin, name=f"Hook {n}")
    client.force_login(coe_admin)
    client.get(reverse("core:webhooks"))
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("core:webhooks"))
    for n in range(12):
        webhook = make(coe_admin, name=f"More {n}")
        WebhookDelivery.objects.create(webhook=webhook, delivery_id=f"{n:032x}", event="general")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("core:webhooks"))
    assert response.content.decode().count("<tr>") == 16  # header + 15
