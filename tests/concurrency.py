"""Run work in threads released together, each on its own database connection."""

import threading

from django.db import connection


def run_at_once(count: int, work) -> list[tuple[str, object]]:
    """Run ``work(i)`` in ``count`` threads released together; return ("ok"|"error", value)
    per thread. ``work.prepare(i)``, when present, runs before the release."""
    barrier = threading.Barrier(count)
    results: list[tuple[str, object] | None] = [None] * count

    def target(i):
        try:
            connection.ensure_connection()  # connect first, so the calls really overlap
            prepared = work.prepare(i) if hasattr(work, "prepare") else i
            barrier.wait(timeout=15)
            results[i] = ("ok", work(prepared))
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[i] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results
