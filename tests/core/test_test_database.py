"""The SQLite test database is a file, so no two threads ever share one sqlite3 connection.

With Django's in-memory test database, pytest-django's live server hands the test's single
connection to its request threads. In CPython's sqlite3 that can deadlock: a thread inside
``sqlite3_step`` holds SQLite's connection mutex while it waits for the GIL to run one of
Django's Python SQL functions, and a thread holding the GIL waits for that mutex to bind the
parameters of its next query. (Two threads, one connection, one ``create_function`` query and
one parameterised query in a loop hang within a second on Python 3.11.)
"""

import pytest
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_the_live_server_shares_no_connection_with_the_test(live_server):
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    assert live_server.thread.connections_override == {}
