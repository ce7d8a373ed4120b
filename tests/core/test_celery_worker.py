"""A real Celery worker consuming from Redis (not eager mode) delivers a notification email.

The worker runs in this process (``celery.contrib.testing.worker.start_worker``), so it shares
Django's locmem ``mail.outbox`` and the test database: the SQLite test file (WAL), or the
PostgreSQL test database. The test is transactional because the worker
reads through its own connection and only sees committed rows.

Each run gets its own queue, so a worker of another test run sharing the Redis database can
neither steal this test's message nor hand it stale ones.
"""

import logging
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection, transaction
from kombu import Exchange, Queue

from config.celery import app
from core import services
from core.models import Notification
from tests.factories import UserFactory

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
TASK = "core.tasks.send_notification_email_task"
SAVED_KEYS = ("broker_url", "task_always_eager", "task_default_queue")


def forget_broker_state():
    """Drop what the app cached from the previous configuration.

    Even eager calls acquire a producer, which caches a pool bound to the broker URL of
    that moment (none, so the AMQP default, on the SQLite run); the queue declarations
    and a worker's queue selection are cached too.
    """
    del app.amqp.queues  # rebuilt from task_default_queue on next use
    app.amqp._producer_pool = None
    app._pool = None


@pytest.fixture
def worker_app():
    """The project's Celery app, pointed at Redis and a queue of its own for this test."""
    saved = {key: app.conf[key] for key in SAVED_KEYS}
    root = logging.getLogger()
    saved_logging = root.level, root.handlers[:]  # the worker takes over the root logger
    broker = settings.CELERY_BROKER_URL or DEFAULT_BROKER
    queue = f"keel-test-{uuid.uuid4().hex[:12]}"
    app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=queue)
    forget_broker_state()
    try:
        yield app, queue
    finally:
        root.setLevel(saved_logging[0])
        root.handlers[:] = saved_logging[1]
        declared = app.amqp.queues.get(queue) or Queue(queue, Exchange(queue), queue)
        app.conf.update(saved)
        forget_broker_state()
        with app.connection_for_write(broker) as conn:  # leave no keys behind in Redis
            bound = declared.bind(conn.default_channel)
            bound.declare()
            bound.delete()


class TaskRuns:
    """Runs of the email task by a worker (never eager), recorded from ``task_postrun``."""

    def __init__(self):
        self.finished = threading.Event()
        self.threads: list[int] = []


@pytest.fixture
def task_runs():
    from celery.signals import task_postrun

    runs = TaskRuns()

    def on_postrun(sender=None, **kwargs):
        if sender is None or sender.name != TASK or sender.request.is_eager:
            return
        connection.close()  # the worker thread's own connection (pitfall 21)
        runs.threads.append(threading.get_ident())
        runs.finished.set()

    task_postrun.connect(on_postrun, weak=False)
    try:
        yield runs
    finally:
        task_postrun.disconnect(on_postrun)


def wait_for_emailed_at(pk: int, timeout: float):
    """Poll the database until the worker has stamped ``emailed_at``."""
    deadline = time.monotonic() + timeout
    while True:
        emailed_at = Notification.objects.values_list("emailed_at", flat=True).get(pk=pk)
        if emailed_at is not None or time.monotonic() > deadline:
            return emailed_at
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_worker_sends_notification_email_after_commit(worker_app, task_runs, mailoutbox):
    from celery.contrib.testing.worker import start_worker

    celery_app, queue = worker_app
    recipient = UserFactory(username="wendy", email="wendy@example.com")

    with start_worker(
        celery_app,
        pool="solo",
        loglevel="WARNING",
        perform_ping_check=False,
        queues=[queue],
        shutdown_timeout=10,
    ):
        with transaction.atomic():
            notification = services.notification_send(
                recipient=recipient,
                subject="Pilot approved",
                body="AI-0007 may start its pilot.",
            )
            time.sleep(0.5)
            # Nothing reaches the worker before the commit (pitfall 20).
            assert not task_runs.finished.is_set()

        assert task_runs.finished.wait(20), "the worker did not run the task within 20 s"
        emailed_at = wait_for_emailed_at(notification.pk, timeout=20)

    assert emailed_at is not None
    # Run once, by the worker's thread, not eagerly in this one.
    assert len(task_runs.threads) == 1
    assert task_runs.threads[0] != threading.get_ident()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.subject == "[Keel] Pilot approved"
    assert email.body == "AI-0007 may start its pilot."
    assert email.to == ["wendy@example.com"]
