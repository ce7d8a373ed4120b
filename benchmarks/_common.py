"""What the benchmark scripts share: a throwaway PostgreSQL database around the run, a
section of docs/benchmarks.md that each script rewrites between its own markers, a timer, the
counted portfolio change hooks and the audit-chain check of the import benchmarks."""

import sys
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def on_throwaway_database(name: str, script: str, body: Callable[[], int]) -> int:
    """Create and migrate database ``name`` (never a shared one), run ``body`` on it with
    DEBUG off, drop it again. Returns ``body``'s exit code (1 when it raised)."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor != "postgresql":
        print(f"{script} needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    if name in {"test", "test_test", connection.settings_dict["NAME"]}:
        print(f"Refusing to use {name!r}: it is shared.", file=sys.stderr)
        return 2
    connection.settings_dict["TEST"]["NAME"] = name
    original_name = connection.settings_dict["NAME"]
    setup_test_environment(debug=False)
    created = False
    try:
        print(f"Creating and migrating database {name!r}…", flush=True)
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        created = True
        return body()
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if created:
            connection.close()
            connection.creation.destroy_test_db(original_name, verbosity=0)
            print(f"Dropped database {name!r}.")
        teardown_test_environment()


def write_section(start: str, end: str, lines: list[str], output: Path = OUTPUT) -> None:
    """Put ``lines`` between the ``start`` and ``end`` markers of ``output`` (appended, with
    the markers, when they are not there yet); the rest of the file is kept."""
    section = "\n".join([start, *lines, end]) + "\n"
    text = output.read_text() if output.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.write_text(text)


def timed(function, *args, **kwargs):
    """(what ``function`` returns, the seconds it took)."""
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


@contextmanager
def counted_change_hooks():
    """The portfolio change hooks (controls, duplicates: Celery work after commit) replaced by
    a list that records their calls, so an import benchmark counts them instead of running
    them eagerly; restored afterwards."""
    from portfolio.initiatives import services

    calls: list = []
    saved = list(services.CHANGE_HOOKS)
    services.CHANGE_HOOKS[:] = [calls.append]
    try:
        yield calls
    finally:
        services.CHANGE_HOOKS[:] = saved


def verified_audit_events() -> int:
    """The number of audit events, after checking the hash chain (raises when broken)."""
    from core.audit import verify_audit_chain

    chain = verify_audit_chain()
    if not chain.ok:
        raise RuntimeError(chain.describe())
    return chain.checked
