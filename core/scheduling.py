"""Start background work by task name.

Tasks import the services they call; services never import a ``tasks`` module back (that
was a cycle). A service names the task instead, and this helper sends it: to the broker, or
in-process when Celery runs eagerly (no ``CELERY_BROKER_URL``).
"""

from celery import current_app


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
