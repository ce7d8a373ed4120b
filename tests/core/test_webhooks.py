"""Outgoing webhooks: signed JSON POSTs after commit, retried, scoped by business unit and kind.

Deliveries go to a real HTTP server on 127.0.0.1 (a thread in this process) that checks the
HMAC signature the way a receiver would.
"""

import hashlib
import hmac
import json
import re
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from core import services
from core.choices import NotificationKind, Role
from core.models import AuditEvent, Webhook, WebhookDelivery
from core.tasks import deliver_webhook_task
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db

SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """What the test server saw, and the statuses it will answer (200 once they run out)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.secrets: dict[str, str] = {}  # path → the webhook secret the receiver knows
        self.statuses: deque[int] = deque()
        self.requests: list[Received] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        secret = receiver.secrets.get(self.path, "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(self.headers.get("X-Keel-Signature", ""), expected)
        with receiver.lock:
            receiver.requests.append(Received(self.path, self.headers, body, valid))
            status = receiver.statuses.popleft() if receiver.statuses else 200
        if not valid:
            status = 401
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", receiver.url("/elsewhere"))
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"answer\n")

    def log_message(self, format, *args):
        """Keep the test output quiet."""


@pytest.fixture
def receiver(settings, monkeypatch):
    """A live HTTP receiver; DEBUG on so that its http:// URL is an allowed webhook URL."""
    settings.DEBUG = True
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReceiverHandler)
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def eager_retries():
    """Let eager ``apply()`` run a task's retries in-process.

    With ``task_eager_propagates`` the first ``Retry`` is raised to the caller instead.
    """
    saved = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def admin_actor(coe_admin):
    return coe_admin


def hook(receiver, actor, path="/hook", **data) -> Webhook:
    """A webhook created through the service, pointed at ``path`` on the receiver."""
    webhook = services.webhook_create(
        actor=actor, data={"name": path.strip("/"), "url": receiver.url(path), **data}
    )
    receiver.secrets[path] = webhook.secret
    return webhook


def broadcast_and_commit(capture, **kwargs):
    with capture(execute=True) as callbacks:
        services.webhook_broadcast(**kwargs)
    return callbacks


# --- Delivery ---------------------------------------------------------------------------------


def test_event_is_posted_as_signed_json(
    receiver, admin_actor, unit_a, django_capture_on_commit_callbacks
):
    webhook = hook(receiver, admin_actor)
    broadcast_and_commit(
        django_capture_on_commit_callbacks,
        kind=NotificationKind.APPROVAL_REQUESTED,
        business_unit=unit_a,
        payload={"request": 7, "title": "Pilot of AI-0007", "budget": Decimal("1200.50")},
    )

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.signature_valid
    assert SIGNATURE.fullmatch(request.headers["X-Keel-Signature"])
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Keel-Event"] == "approval_requested"
    delivery_id = uuid.UUID(request.headers["X-Keel-Delivery"])
    body = request.json
    assert body["event"] == "approval_requested"
    assert body["business_unit"] == {"id": unit_a.pk, "code": "RETAIL", "name": "Retail Banking"}
    assert body["data"] == {"request": 7, "title": "Pilot of AI-0007", "budget": "1200.50"}
    assert body["occurred_at"]

    delivery = WebhookDelivery.objects.get()
    assert delivery.webhook == webhook
    assert delivery.delivery_id == delivery_id
    assert delivery.event == "approval_requested"
    assert delivery.status_code == 200
    assert delivery.attempts == 1
    assert delivery.succeeded_at is not None
    assert delivery.last_error == ""


def test_wrong_secret_is_refused_by_the_receiver_and_recorded(receiver, admin_actor):
    webhook = hook(receiver, admin_actor)
    receiver.secrets["/hook"] = "not-the-secret"
    with pytest.raises(services.WebhookDeliveryError):
        services.webhook_deliver(
            webhook_id=webhook.pk, body="{}", event="general", delivery_id=str(uuid.uuid4())
        )
    assert receiver.requests[0].signature_valid is False
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code == 401
    assert delivery.succeeded_at is None


def test_nothing_is_sent_before_commit(
    receiver, admin_actor, unit_a, django_capture_on_commit_callbacks, mailoutbox
):
    hook(receiver, admin_actor)
    nina = UserFactory(username="nina", email="nina@example.com")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            services.notification_send(
                recipient=nina, subject="Please approve", kind=NotificationKind.APPROVAL_REQUESTED
            )
            services.webhook_broadcast(
                kind=NotificationKind.APPROVAL_REQUESTED, business_unit=unit_a, payload={}
            )
            assert receiver.requests == []
            assert mailoutbox == []
        assert receiver.requests == []  # still waiting for the commit callbacks

    assert len(callbacks) == 2  # one email, one webhook
    assert len(receiver.requests) == 1
    assert len(mailoutbox) == 1


def test_enqueued_once_per_webhook_with_its_own_delivery_id(
    receiver, admin_actor, unit_a, monkeypatch, django_capture_on_commit_callbacks
):
    first = hook(receiver, admin_actor, "/one")
    second = hook(receiver, admin_actor, "/two")
    enqueued = []
    monkeypatch.setattr(
        deliver_webhook_task, "delay", lambda *args, **kwargs: enqueued.append((args, kwargs))
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.webhook_broadcast(kind=NotificationKind.GATE_BLOCKED, payload={"stage": "pilot"})
    assert enqueued == []  # not before the commit
    for callback in callbacks:
        callback()

    assert [args[0] for args, _ in enqueued] == [first.pk, second.pk]
    assert {kwargs["event"] for _, kwargs in enqueued} == {"gate_blocked"}
    assert len({kwargs["delivery_id"] for _, kwargs in enqueued}) == 2
    assert json.loads(enqueued[0][0][1])["data"] == {"stage": "pilot"}
    assert receiver.requests == []


def test_rollback_sends_nothing(receiver, admin_actor, unit_a, django_capture_on_commit_callbacks):
    hook(receiver, admin_actor)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.webhook_broadcast(
            kind=NotificationKind.APPROVAL_DECIDED, business_unit=unit_a, payload={"id": 1}
        )
        raise RuntimeError("roll back")
    assert callbacks == []
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_unknown_kind_and_unserialisable_payload_fail_in_the_caller(
    receiver, admin_actor, django_capture_on_commit_callbacks
):
    hook(receiver, admin_actor)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValueError, match="Unknown notification kind"):
            services.webhook_broadcast(kind="approval_granted", payload={})
        with pytest.raises(TypeError):
            services.webhook_broadcast(kind="general", payload={"who": object()})
    assert callbacks == []
    assert receiver.requests == []


# --- Retries ------------------------------------------------------------------------------------


def deliver_args(webhook, event="general"):
    body = json.dumps({"event": event, "data": {"n": 1}})
    return {
        "args": [webhook.pk, body],
        "kwargs": {"event": event, "delivery_id": str(uuid.uuid4())},
    }


def test_task_retries_after_a_500_and_succeeds(receiver, admin_actor, eager_retries):
    webhook = hook(receiver, admin_actor)
    receiver.statuses.extend([500])
    call = deliver_args(webhook)

    result = deliver_webhook_task.apply(**call)  # eager: the retry runs at once

    assert result.get() is True
    assert len(receiver.requests) == 2
    assert all(request.signature_valid for request in receiver.requests)
    # The retry is the same delivery: same id for the receiver, same row for the admin.
    assert {request.headers["X-Keel-Delivery"] for request in receiver.requests} == {
        call["kwargs"]["delivery_id"]
    }
    assert receiver.requests[0].body == receiver.requests[1].body
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 2
    assert delivery.status_code == 200
    assert delivery.succeeded_at is not None
    assert delivery.last_error == ""


def test_task_gives_up_after_six_retries(receiver, admin_actor, eager_retries):
    webhook = hook(receiver, admin_actor)
    receiver.statuses.extend([503] * 10)

    result = deliver_webhook_task.apply(**deliver_args(webhook))

    assert result.failed()
    with pytest.raises(services.WebhookDeliveryError):
        result.get()

    assert len(receiver.requests) == 7  # the first attempt and six retries
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 7
    assert delivery.status_code == 503
    assert delivery.succeeded_at is None
    assert delivery.last_error.startswith("HTTP 503")
    assert "answer" in delivery.last_error  # an excerpt of the receiver's reply


def test_service_records_each_attempt_and_is_idempotent(receiver, admin_actor):
    webhook = hook(receiver, admin_actor)
    receiver.statuses.extend([500])
    delivery_id = str(uuid.uuid4())
    deliver = {"webhook_id": webhook.pk, "body": '{"a":1}', "event": "general"}

    with pytest.raises(services.WebhookDeliveryError, match="HTTP 500"):
        services.webhook_deliver(delivery_id=delivery_id, **deliver)
    failed = WebhookDelivery.objects.get()
    assert (failed.attempts, failed.status_code, failed.succeeded_at) == (1, 500, None)
    assert failed.last_error.startswith("HTTP 500")
    assert failed.last_attempt_at is not None

    delivered = services.webhook_deliver(delivery_id=delivery_id, **deliver)
    assert (delivered.pk, delivered.attempts, delivered.status_code) == (failed.pk, 2, 200)
    assert delivered.succeeded_at is not None
    assert delivered.last_error == ""

    # A redelivered task (Redis visibility timeout, worker crash) posts nothing more.
    again = services.webhook_deliver(delivery_id=delivery_id, **deliver)
    assert again.attempts == 2
    assert len(receiver.requests) == 2


def test_network_error_is_recorded_and_retried(settings, admin_actor, monkeypatch):
    settings.DEBUG = True
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as unused:  # a port nobody listens on once closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    webhook = services.webhook_create(
        actor=admin_actor, data={"name": "down", "url": f"http://127.0.0.1:{port}/hook"}
    )
    with pytest.raises(services.WebhookDeliveryError):
        services.webhook_deliver(
            webhook_id=webhook.pk, body="{}", event="general", delivery_id=str(uuid.uuid4())
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code is None
    assert delivery.attempts == 1
    assert "URLError" in delivery.last_error


def test_redirects_are_not_followed(receiver, admin_actor):
    webhook = hook(receiver, admin_actor)
    receiver.statuses.extend([302])
    with pytest.raises(services.WebhookDeliveryError, match="HTTP 302"):
        services.webhook_deliver(
            webhook_id=webhook.pk, body="{}", event="general", delivery_id=str(uuid.uuid4())
        )
    assert receiver.paths() == ["/hook"]  # never /elsewhere
    assert WebhookDelivery.objects.get().status_code == 302


def test_deactivated_or_deleted_webhook_is_skipped(receiver, admin_actor):
    webhook = hook(receiver, admin_actor)
    services.webhook_update(actor=admin_actor, webhook=webhook, data={"is_active": False})
    call = deliver_args(webhook)
    assert deliver_webhook_task.apply(**call).get() is False
    assert (
        services.webhook_deliver(
            webhook_id=987654, body="{}", event="general", delivery_id=str(uuid.uuid4())
        )
        is None
    )
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_http_url_is_refused_at_delivery_outside_debug(receiver, admin_actor, settings):
    webhook = hook(receiver, admin_actor)  # created while DEBUG was on
    settings.DEBUG = False
    delivery = services.webhook_deliver(
        webhook_id=webhook.pk, body="{}", event="general", delivery_id=str(uuid.uuid4())
    )
    assert receiver.requests == []
    assert delivery.succeeded_at is None
    assert delivery.attempts == 1
    assert "https://" in delivery.last_error


def test_tasks_declare_their_retries():
    import smtplib

    from core.tasks import send_notification_email_task

    assert deliver_webhook_task.autoretry_for == (services.WebhookDeliveryError,)
    assert deliver_webhook_task.retry_backoff  # exponential
    assert deliver_webhook_task.retry_jitter is True
    assert deliver_webhook_task.max_retries == 6

    assert set(send_notification_email_task.autoretry_for) == {smtplib.SMTPException, OSError}
    assert send_notification_email_task.retry_backoff is True
    assert send_notification_email_task.retry_jitter is True
    assert send_notification_email_task.max_retries == 5


# --- Matching: business unit and kinds --------------------------------------------------------


def test_business_unit_webhook_receives_only_its_units_events(
    receiver, admin_actor, unit_a, unit_b, django_capture_on_commit_callbacks
):
    hook(receiver, admin_actor, "/global")
    hook(receiver, admin_actor, "/retail", business_unit=unit_a)
    hook(receiver, admin_actor, "/insure", business_unit=unit_b)

    def paths_for(unit):
        receiver.requests.clear()
        broadcast_and_commit(
            django_capture_on_commit_callbacks,
            kind=NotificationKind.APPROVAL_DECIDED,
            business_unit=unit,
            payload={},
        )
        assert all(request.signature_valid for request in receiver.requests)
        return sorted(receiver.paths())

    assert paths_for(unit_a) == ["/global", "/retail"]
    assert paths_for(unit_b) == ["/global", "/insure"]
    assert paths_for(None) == ["/global"]


def test_kinds_filter(receiver, admin_actor, django_capture_on_commit_callbacks):
    hook(receiver, admin_actor, "/decisions", kinds=["approval_decided", "approval_escalated"])
    hook(receiver, admin_actor, "/everything", kinds=[])
    hook(receiver, admin_actor, "/off", is_active=False)

    for kind in ("approval_decided", "gate_blocked", "approval_escalated"):
        broadcast_and_commit(django_capture_on_commit_callbacks, kind=kind, payload={})

    received = [(request.path, request.headers["X-Keel-Event"]) for request in receiver.requests]
    assert sorted(received) == [
        ("/decisions", "approval_decided"),
        ("/decisions", "approval_escalated"),
        ("/everything", "approval_decided"),
        ("/everything", "approval_escalated"),
        ("/everything", "gate_blocked"),
    ]


# --- Managing webhooks --------------------------------------------------------------------------


def test_https_only_outside_debug(settings, admin_actor):
    settings.DEBUG = False
    with pytest.raises(ValidationError) as refused:
        services.webhook_create(actor=admin_actor, data={"name": "x", "url": "http://x.test/h"})
    assert "url" in refused.value.message_dict
    webhook = services.webhook_create(
        actor=admin_actor, data={"name": "ok", "url": "https://hooks.example.com/keel"}
    )
    assert len(webhook.secret) == 64

    settings.DEBUG = True
    for url in ("ftp://x.test/h", "file:///etc/passwd"):
        with pytest.raises(ValidationError):
            services.webhook_create(actor=admin_actor, data={"name": "bad", "url": url})
    assert Webhook.objects.count() == 1


def test_unknown_kinds_are_refused(settings, admin_actor):
    with pytest.raises(ValidationError) as refused:
        services.webhook_create(
            actor=admin_actor,
            data={"name": "x", "url": "https://x.test/h", "kinds": ["approval_granted"]},
        )
    assert "kinds" in refused.value.message_dict


@pytest.mark.parametrize("persona", ["member_a", "member_b", "coe_reviewer", "executive"])
def test_only_coe_admins_manage_webhooks(request, persona, admin_actor):
    actor = request.getfixturevalue(persona)
    webhook = services.webhook_create(
        actor=admin_actor, data={"name": "ops", "url": "https://hooks.example.com/ops"}
    )
    events_before = AuditEvent.objects.count()
    secret = webhook.secret

    with pytest.raises(PermissionDenied):
        services.webhook_create(actor=actor, data={"name": "mine", "url": "https://x.test/h"})
    with pytest.raises(PermissionDenied):
        services.webhook_update(actor=actor, webhook=webhook, data={"url": "https://evil.test/"})
    with pytest.raises(PermissionDenied):
        services.webhook_rotate_secret(actor=actor, webhook=webhook)
    with pytest.raises(PermissionDenied):
        services.webhook_delete(actor=actor, webhook=webhook)

    webhook.refresh_from_db()
    assert (webhook.url, webhook.secret) == ("https://hooks.example.com/ops", secret)
    assert Webhook.objects.count() == 1
    assert AuditEvent.objects.count() == events_before


def test_webhook_changes_are_audited_without_the_secret(admin_actor, unit_a):
    webhook = services.webhook_create(
        actor=admin_actor,
        data={"name": "ops", "url": "https://hooks.example.com/ops", "business_unit": unit_a},
    )
    services.webhook_update(actor=admin_actor, webhook=webhook, data={"kinds": ["gate_blocked"]})
    old_secret = webhook.secret
    new_secret = services.webhook_rotate_secret(actor=admin_actor, webhook=webhook)
    services.webhook_delete(actor=admin_actor, webhook=webhook)

    events = list(AuditEvent.objects.filter(object_type="core.webhook"))
    assert [event.action for event in events] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert all(event.actor == admin_actor for event in events)
    created = json.loads(events[0].payload)
    assert created["after"]["business_unit"] == unit_a.pk
    assert json.loads(events[1].payload)["after"] == {"kinds": ["gate_blocked"]}
    assert new_secret != old_secret
    for event in events:
        assert old_secret not in event.payload and new_secret not in event.payload
    assert not Webhook.objects.exists()


# --- Admin ----------------------------------------------------------------------------------------


@pytest.fixture
def staff_coe_admin(unit_a):
    return member(Role.COE_ADMIN, unit_a, username="sam", is_staff=True)


def test_admin_creates_webhook_through_the_service_and_shows_the_secret_once(
    staff_coe_admin, unit_a
):
    client = Client()
    client.force_login(staff_coe_admin)
    response = client.post(
        reverse("admin:core_webhook_add"),
        {
            "name": "Retail ops",
            "url": "https://hooks.example.com/retail",
            "business_unit": unit_a.pk,
            "kinds": ["approval_requested", "approval_decided"],
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    assert webhook.kinds == ["approval_requested", "approval_decided"]
    assert webhook.business_unit == unit_a
    assert webhook.secret in response.content.decode()
    assert AuditEvent.objects.filter(action="webhook.created", object_id=str(webhook.pk)).exists()

    change_page = client.get(reverse("admin:core_webhook_change", args=[webhook.pk]))
    assert change_page.status_code == 200
    assert webhook.secret not in change_page.content.decode()


def test_admin_lists_failed_deliveries(staff_coe_admin):
    webhook = services.webhook_create(
        actor=staff_coe_admin, data={"name": "ops", "url": "https://hooks.example.com/ops"}
    )
    WebhookDelivery.objects.create(
        webhook=webhook,
        delivery_id=uuid.uuid4(),
        event="gate_blocked",
        status_code=500,
        attempts=7,
        last_error="HTTP 500 Internal Server Error",
    )
    client = Client()
    client.force_login(staff_coe_admin)
    page = client.get(reverse("admin:core_webhookdelivery_changelist"), {"outcome": "failing"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "HTTP 500 Internal Server Error" in html
    assert "Gate blocked" in html


def test_staff_without_the_role_cannot_see_webhooks(unit_b):
    staff = member(Role.BU_LEAD, unit_b, username="stu", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:core_webhook_changelist")).status_code == 403
    assert client.get(reverse("admin:core_webhookdelivery_changelist")).status_code == 403


def test_admin_rotates_the_secret_and_deletes_through_the_services(staff_coe_admin):
    webhook = services.webhook_create(
        actor=staff_coe_admin, data={"name": "ops", "url": "https://hooks.example.com/ops"}
    )
    WebhookDelivery.objects.create(webhook=webhook, delivery_id=uuid.uuid4(), event="general")
    old_secret = webhook.secret
    client = Client()
    client.force_login(staff_coe_admin)
    assert client.get(reverse("admin:core_webhook_add")).status_code == 200

    rotated = client.post(
        reverse("admin:core_webhook_changelist"),
        {"action": "rotate_secret", "_selected_action": [webhook.pk]},
        follow=True,
    )
    webhook.refresh_from_db()
    assert webhook.secret != old_secret
    assert webhook.secret in rotated.content.decode()

    deleted = client.post(
        reverse("admin:core_webhook_delete", args=[webhook.pk]), {"post": "yes"}, follow=True
    )
    assert deleted.status_code == 200
    assert not Webhook.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert list(
        AuditEvent.objects.filter(object_type="core.webhook").values_list("action", flat=True)
    ) == ["webhook.created", "webhook.secret_rotated", "webhook.deleted"]
