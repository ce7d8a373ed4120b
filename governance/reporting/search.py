"""Global search across the registers: initiatives, models, vendors, approval requests and
GPU findings.

Each register is searched through the scoped selector of its own list page, so a person finds
exactly what those lists would show them. On PostgreSQL the text fields are matched with
full-text search (``SearchVector`` / ``websearch`` ``SearchQuery``, the ``simple``
configuration: references and product names are not English words) plus a case-insensitive
match on the name, so a word's beginning still finds it; on SQLite, a case-insensitive
substring match on every field. No index or migration: the registers are thousands of rows.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from governance.approvals.selectors import request_list
from inventory.finops.selectors import findings_list
from inventory.registry.selectors import model_list, vendor_register_list
from portfolio.initiatives.selectors import initiative_list, initiative_pk_by_reference

RESULTS_PER_REGISTER = 10
MAX_QUERY_LENGTH = 200
REFERENCE = re.compile(r"^AI-\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Register:
    key: str
    label: str
    rows: Callable[[object], QuerySet]
    fields: tuple[str, ...]  # the first is the name, also matched as a substring
    describe: Callable[[object], str]


@dataclass(frozen=True)
class Hit:
    label: str
    url: str


@dataclass(frozen=True)
class RegisterResults:
    key: str
    label: str
    hits: tuple[Hit, ...]
    total: int


REGISTERS = (
    Register(
        "initiatives",
        "Initiatives",
        lambda user: initiative_list(user=user).order_by("reference"),
        ("title", "reference", "purpose"),
        lambda row: f"{row.reference} · {row.title}",
    ),
    Register(
        "models",
        "Models",
        lambda user: model_list(user=user).order_by("name", "pk"),
        ("name", "description"),
        lambda row: row.name,
    ),
    Register(
        "vendors",
        "Vendors",
        lambda user: vendor_register_list(user=user).order_by("name"),
        ("name", "description"),
        lambda row: row.name,
    ),
    Register(
        "requests",
        "Approval requests",
        lambda user: request_list(user=user).order_by("-submitted_at", "-pk"),
        ("initiative__title", "initiative__reference", "comment"),
        lambda row: (
            f"{row.initiative.reference} · {row.get_gate_display()} gate · "
            f"{row.get_status_display()}"
        ),
    ),
    Register(
        "findings",
        "GPU findings",
        lambda user: findings_list(user),  # most waste first
        ("summary", "subject_key"),
        lambda row: f"{row.get_kind_display()}: {row.summary}",
    ),
)


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def _matching(queryset: QuerySet, fields: tuple[str, ...], text: str) -> QuerySet:
    if uses_full_text():
        vector = SearchVector(*fields, config="simple")
        query = SearchQuery(text, config="simple", search_type="websearch")
        return queryset.annotate(keel_search=vector).filter(
            Q(keel_search=query) | Q(**{f"{fields[0]}__icontains": text})
        )
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": text})
    return queryset.filter(condition)


def normalise(text: str) -> str:
    return " ".join((text or "").split())[:MAX_QUERY_LENGTH]


def reference_target(*, user, text: str) -> int | None:
    """The id of the visible initiative whose reference is exactly ``text`` (``AI-0094``)."""
    if not REFERENCE.match(text):
        return None
    try:
        return initiative_pk_by_reference(user=user, reference=text)
    except Http404:  # unknown or not visible: search it as text
        return None


def search(*, user, text: str) -> list[RegisterResults]:
    """Each register's visible rows matching ``text``: at most ``RESULTS_PER_REGISTER`` hits
    and the total, in register order; no query for an empty text. Two queries a register."""
    text = normalise(text)
    if not text:
        return []
    results = []
    for register in REGISTERS:
        matching = _matching(register.rows(user), register.fields, text)
        rows = list(matching[:RESULTS_PER_REGISTER])
        total = len(rows) if len(rows) < RESULTS_PER_REGISTER else matching.count()
        hits = tuple(Hit(register.describe(row), row.get_absolute_url()) for row in rows)
        results.append(RegisterResults(register.key, register.label, hits, total))
    return results
