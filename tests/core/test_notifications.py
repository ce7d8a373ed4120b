"""Notifications: stored in-app, emailed once after commit unless the recipient turned the
kind's email off, listed and marked read; the email preferences page."""

import re
import smtplib

import pytest
from django.conf import settings
from django.core.mail.backends import locmem
from django.db import transaction
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from core import services
from core.choices import NotificationKind
from core.models import Notification, NotificationPreference
from core.tasks import send_notification_email_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BELL = re.compile(r'<a class="bell"[^>]*aria-label="Notifications, (\d+) unread">(.*?)</a>', re.S)


@pytest.fixture
def celery_eager():
    """Run tasks in-process even when a broker is configured (the PostgreSQL + Redis run)."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.fixture
def recipient(db):
    return UserFactory(username="nina", email="nina@example.com")


def bell(html: str) -> tuple[int, int | None]:
    """(count in the bell's accessible name, visible badge count or None)."""
    match = BELL.search(html)
    assert match, "the notification bell is missing from the page"
    badge = re.search(r'<span class="count">(\d+)</span>', match.group(2))
    return int(match.group(1)), int(badge.group(1)) if badge else None


def test_send_creates_row_and_emails_only_after_commit(
    recipient, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            notification = services.notification_send(
                recipient=recipient,
                subject="Gate request approved",
                body="AI-0001 may start its pilot.",
                url="/initiatives/1/",
            )
        # The row exists at once; the email waits for the commit.
        assert Notification.objects.filter(pk=notification.pk, recipient=recipient).exists()
        assert mailoutbox == []

    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.subject == "[Keel] Gate request approved"
    assert email.body == (
        f"AI-0001 may start its pilot.\n\nOpen in Keel: {settings.KEEL_PUBLIC_URL}/initiatives/1/\n"
    )
    assert email.to == ["nina@example.com"]
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.read_at is None


def test_no_email_when_the_transaction_rolls_back(
    recipient, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notification_send(recipient=recipient, subject="Never sent")
        raise RuntimeError("roll back")
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_emailing_is_idempotent(
    recipient, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_send(recipient=recipient, subject="Review due")
    assert len(mailoutbox) == 1
    first_emailed_at = Notification.objects.get(pk=notification.pk).emailed_at

    # A redelivered task (or a manual retry) sends nothing more.
    assert services.notification_email(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=notification.pk).emailed_at == first_emailed_at


def test_email_is_sent_once_when_called_directly(recipient, mailoutbox):
    notification = Notification.objects.create(recipient=recipient, subject="Direct")
    assert services.notification_email(notification_id=notification.pk) is True
    assert services.notification_email(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1


def test_recipient_without_email_gets_only_the_in_app_notification(
    celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    silent = UserFactory(username="noemail", email="")
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_send(recipient=silent, subject="Hello")
    assert mailoutbox == []
    notification.refresh_from_db()
    assert notification.emailed_at is None


def test_page_lists_notifications_and_mark_all_read(recipient):
    other = UserFactory(username="otto", email="otto@example.com")
    Notification.objects.create(recipient=recipient, subject="Risk review requested")
    Notification.objects.create(recipient=recipient, subject="Gate request approved")
    Notification.objects.create(recipient=other, subject="Someone else's news")

    client = Client(enforce_csrf_checks=True)
    client.force_login(recipient)
    page = client.get(reverse("core:notification_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Risk review requested" in html
    assert "Gate request approved" in html
    assert "Someone else&#x27;s news" not in html and "Someone else's news" not in html
    assert html.count("<strong>unread</strong>") == 2
    assert bell(html) == (2, 2)

    # Without the CSRF token the POST is refused and nothing changes.
    refused = client.post(reverse("core:notifications_mark_read"))
    assert refused.status_code == 403
    assert Notification.objects.filter(recipient=recipient, read_at__isnull=True).count() == 2

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(
        reverse("core:notifications_mark_read"), {"csrfmiddlewaretoken": token}, follow=True
    )
    assert response.redirect_chain == [(reverse("core:notification_list"), 302)]
    html = response.content.decode()
    assert "<strong>unread</strong>" not in html
    assert html.count(">read</td>") == 2
    assert bell(html) == (0, None)

    assert not Notification.objects.filter(recipient=recipient, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=other).read_at is None


def test_mark_read_needs_post(recipient):
    client = Client()
    client.force_login(recipient)
    assert client.get(reverse("core:notifications_mark_read")).status_code == 405


def test_bell_counts_unread_on_every_page(recipient):
    for n in range(3):
        Notification.objects.create(recipient=recipient, subject=f"Note {n}")
    services.notifications_mark_read(user=recipient)
    Notification.objects.create(recipient=recipient, subject="Fresh")

    client = Client()
    client.force_login(recipient)
    html = client.get(reverse("home")).content.decode()
    assert bell(html) == (1, 1)


# --- Kinds and email preferences ----------------------------------------------------------------


def test_send_records_the_kind_and_defaults_to_general(recipient):
    general = services.notification_send(recipient=recipient, subject="Hello")
    decided = services.notification_send(
        recipient=recipient, subject="Approved", kind=NotificationKind.APPROVAL_DECIDED
    )
    assert general.kind == "general"
    assert Notification.objects.get(pk=decided.pk).kind == "approval_decided"


def test_send_refuses_an_unknown_kind(recipient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValueError):
        services.notification_send(recipient=recipient, subject="Typo", kind="approval_granted")
    assert callbacks == []
    assert not Notification.objects.exists()


def test_email_skipped_for_a_kind_turned_off_and_sent_for_others(
    recipient, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    services.notification_preferences_update(
        user=recipient, email_by_kind={NotificationKind.GATE_BLOCKED: False}
    )
    with django_capture_on_commit_callbacks(execute=True):
        blocked = services.notification_send(
            recipient=recipient, subject="Gate blocked", kind=NotificationKind.GATE_BLOCKED
        )
        decided = services.notification_send(
            recipient=recipient, subject="Approved", kind=NotificationKind.APPROVAL_DECIDED
        )

    assert [mail.subject for mail in mailoutbox] == ["[Keel] Approved"]
    # The in-app notification still arrives; only its email is skipped.
    blocked.refresh_from_db()
    decided.refresh_from_db()
    assert blocked.emailed_at is None and blocked.read_at is None
    assert decided.emailed_at is not None


def test_turning_email_off_affects_only_that_user(celery_eager, mailoutbox, recipient):
    other = UserFactory(username="otto", email="otto@example.com")
    services.notification_preferences_update(
        user=recipient, email_by_kind={NotificationKind.GENERAL: False}
    )
    mine = Notification.objects.create(recipient=recipient, subject="Mine")
    theirs = Notification.objects.create(recipient=other, subject="Theirs")
    assert services.notification_email(notification_id=mine.pk) is False
    assert services.notification_email(notification_id=theirs.pk) is True
    assert [mail.to for mail in mailoutbox] == [["otto@example.com"]]


def test_preferences_update_upserts_and_keeps_kinds_left_out(recipient):
    assert NotificationPreference.objects.email_by_kind(user=recipient) == dict.fromkeys(
        NotificationKind.values, True
    )
    services.notification_preferences_update(
        user=recipient, email_by_kind={"general": False, "gate_blocked": False}
    )
    result = services.notification_preferences_update(
        user=recipient, email_by_kind={"general": True, "audit_alert": False}
    )
    assert result == {
        **dict.fromkeys(NotificationKind.values, True),
        "gate_blocked": False,
        "audit_alert": False,
    }
    assert NotificationPreference.objects.filter(user=recipient).count() == 3


def test_preferences_update_refuses_unknown_kinds_and_non_booleans(recipient):
    with pytest.raises(ValueError, match="approval_granted"):
        services.notification_preferences_update(
            user=recipient, email_by_kind={"approval_granted": False}
        )
    with pytest.raises(ValueError):
        services.notification_preferences_update(user=recipient, email_by_kind={"general": "no"})
    assert not NotificationPreference.objects.exists()


class FlakySMTPBackend(locmem.EmailBackend):
    """Fails like a dropped SMTP connection the first time, then delivers."""

    failures_left = 0

    def send_messages(self, messages):
        if FlakySMTPBackend.failures_left:
            FlakySMTPBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def test_email_task_retries_after_an_smtp_error(recipient, mailoutbox, settings):
    """Eager ``apply()`` runs the retry in-process when eager exceptions don't propagate."""
    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTPBackend"
    FlakySMTPBackend.failures_left = 1
    notification = Notification.objects.create(recipient=recipient, subject="Retry me")

    saved = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    try:
        result = send_notification_email_task.apply(args=[notification.pk])
    finally:
        celery_app.conf.task_eager_propagates = saved

    assert result.get() is True
    assert FlakySMTPBackend.failures_left == 0
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None


class BrokenMailBackend(locmem.EmailBackend):
    """A mail server that refuses everything with an error the email task does not retry."""

    def send_messages(self, messages):
        raise RuntimeError("mail server refused the message")


def test_a_failing_email_after_commit_is_logged_and_the_notification_stands(
    recipient, settings, caplog, django_capture_on_commit_callbacks
):
    """The email is enqueued by a robust on-commit callback: when it fails (here the task
    itself, run eagerly without a broker), Django logs the failure by the callback's
    ``__qualname__`` instead of raising into the committed caller. A ``functools.partial``
    has no ``__qualname__``, so that log line itself used to raise."""
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailBackend"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = services.notification_send(recipient=recipient, subject="Ping")
    assert [callback.__qualname__ for callback in callbacks] == [
        "enqueue_after_commit.<locals>.enqueue_committed"
    ]
    assert Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).exists()
    if celery_app.conf.task_always_eager:
        # With a broker the task only waits in the queue; eagerly it ran and failed.
        assert "Error calling enqueue_after_commit.<locals>.enqueue_committed" in caplog.text
        assert "mail server refused the message" in caplog.text


# --- The preferences page ----------------------------------------------------------------------

CHECKBOX = re.compile(r'<input type="checkbox" name="(\w+)"([^>]*)>')


def checkboxes(html: str) -> dict[str, bool]:
    return {name: " checked" in attrs for name, attrs in CHECKBOX.findall(html)}


def test_preferences_page_needs_login(client):
    response = client.get(reverse("core:notification_preferences"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_preferences_page_shows_labelled_checkboxes_with_the_current_state(recipient):
    services.notification_preferences_update(
        user=recipient, email_by_kind={NotificationKind.AUDIT_ALERT: False}
    )
    client = Client()
    client.force_login(recipient)
    html = client.get(reverse("core:notification_preferences")).content.decode()

    assert checkboxes(html) == {
        **dict.fromkeys(NotificationKind.values, True),
        "audit_alert": False,
    }
    assert "<legend>Email me about</legend>" in html
    for kind in NotificationKind:
        # A label tied to each checkbox, and its help text announced with it.
        assert f'<label for="id_{kind.value}">' in html
        assert kind.label in html
        assert f'aria-describedby="id_{kind.value}_helptext"' in html
        assert f'id="id_{kind.value}_helptext"' in html
    assert '<button class="btn" type="submit">Save preferences</button>' in html
    assert "nina@example.com" in html


def test_preferences_page_saves_with_csrf_and_shows_the_new_state(recipient):
    other = UserFactory(username="otto", email="otto@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(recipient)
    url = reverse("core:notification_preferences")
    html = client.get(url).content.decode()

    # Without the CSRF token nothing is saved.
    refused = client.post(url, {"approval_requested": "on"})
    assert refused.status_code == 403
    assert not NotificationPreference.objects.exists()

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    # Unticked boxes are absent from the POST: those kinds are turned off.
    response = client.post(
        url,
        {"csrfmiddlewaretoken": token, "approval_requested": "on", "approval_decided": "on"},
        follow=True,
    )
    assert response.redirect_chain == [(url, 302)]
    html = response.content.decode()
    assert "Your email preferences are saved." in html
    assert checkboxes(html) == {
        "approval_requested": True,
        "approval_decided": True,
        "approval_escalated": False,
        "gate_blocked": False,
        "model_review": False,
        "model_drift": False,
        "gpu_finding": False,
        "audit_alert": False,
        "mention": False,
        "general": False,
    }
    assert NotificationPreference.objects.email_by_kind(user=recipient) == checkboxes(html)
    assert not NotificationPreference.objects.filter(user=other).exists()


def test_preferences_page_warns_when_the_user_has_no_email():
    silent = UserFactory(username="noemail", email="")
    client = Client()
    client.force_login(silent)
    html = client.get(reverse("core:notification_preferences")).content.decode()
    assert "no email address" in html


def test_notification_list_links_to_the_preferences(recipient):
    client = Client()
    client.force_login(recipient)
    html = client.get(reverse("core:notification_list")).content.decode()
    assert f'href="{reverse("core:notification_preferences")}"' in html


def test_the_email_links_to_the_object_on_the_public_url(recipient, mailoutbox, settings):
    settings.KEEL_PUBLIC_URL = "https://keel.example.com"
    notification = Notification.objects.create(
        recipient=recipient, subject="Decision needed", body="AI-0042 waits.", url="/approvals/7/"
    )
    assert services.notification_email(notification_id=notification.pk) is True
    assert mailoutbox[0].body == (
        "AI-0042 waits.\n\nOpen in Keel: https://keel.example.com/approvals/7/\n"
    )
    plain = Notification.objects.create(recipient=recipient, subject="No object")
    services.notification_email(notification_id=plain.pk)
    assert mailoutbox[1].body == "No object"
