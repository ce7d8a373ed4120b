"""Start background work by task name.

Tasks import the services they call; services never import a ``tasks`` module back (that
was a cycle). A service names the task instead, and this helper sends it: to the broker, or
in-process when Celery runs eagerly (no ``CELERY_BROKER_URL``).
"""

from celery import current_app
from django.db import transaction


def enqueue(task_name: str, *args, **kwargs):
    """Run ``task_name(*args, **kwargs)`` in the background and return its ``AsyncResult``.

    The task modules are imported on first use, so an eager run finds the task even in a web
    process that never imported it (a worker imports them at start-up).
    """
    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()
    task = current_app.tasks.get(task_name)
    if task is None:  # not registered in this process: the broker's worker knows it
        return current_app.send_task(task_name, args=args, kwargs=kwargs)
    return task.delay(*args, **kwargs)


def enqueue_after_commit(task_name: str, *args, **kwargs) -> None:
    """Enqueue ``task_name`` once the current transaction commits, as a robust callback: a
    failing enqueue (broker down, or the task itself failing when tasks run eagerly) is
    logged and neither stops the other callbacks nor fails a caller that has committed.

    The callback is a named function, not a ``functools.partial``: Django logs a robust
    callback's failure by its ``__qualname__``, which a ``partial`` does not have (the log
    line itself would then raise)."""

    def enqueue_committed():
        enqueue(task_name, *args, **kwargs)

    transaction.on_commit(enqueue_committed, robust=True)
