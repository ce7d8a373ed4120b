"""Notifications: stored in-app, emailed once after commit, listed and marked read."""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from core import services
from core.models import Notification
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
    assert email.body == "AI-0001 may start its pilot."
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
