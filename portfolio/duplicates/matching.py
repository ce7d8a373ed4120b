"""Duplicate detection: which initiatives of other business units look like this one, and who
may decide about a possible duplicate.

Two initiatives are compared on ``lower(title || ' ' || purpose)`` by trigram similarity, the
measure of PostgreSQL's ``pg_trgm``: each word (a run of letters and digits) is lower-cased and
padded with two spaces in front and one behind, its 3-grams are collected into a set, and the
score of two texts is ``|A ∩ B| / |A ∪ B|``. PostgreSQL computes it with ``similarity()``,
filtered by the ``%`` operator so that the GIN index of migration 0004 (on exactly that
expression) is used. Elsewhere (SQLite) the same score is computed in Python over a bounded
candidate set, so both databases flag the same pairs.
"""

import re

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, F, FloatField, Func, Q, QuerySet, TextField, Value

from core.choices import Role
from portfolio.initiatives.choices import ENDED_STAGES
from portfolio.initiatives.models import Initiative

# Pairs scoring at least this are flagged (settings may override it). Chosen by experiment
# on a realistic portfolio (tests/portfolio/duplicates/test_duplicates.py): planted
# near-duplicates score 0.60-0.78, the closest pair that is no duplicate (same words, another
# job) 0.29.
DEFAULT_THRESHOLD = 0.45

# SQLite fallback: how many recent initiatives of other units are compared in Python, and how
# many of the subject's words pre-filter them.
FALLBACK_CANDIDATES = 2000

FALLBACK_FILTER_WORDS = 24

# Words too common to pre-filter candidates by (they share no meaning worth a comparison).
_STOP_WORDS = (
    "a about after all also an and any are as at be been before being both but by can could "
    "each for from has have how in into is it its more most new no not of on or our out over "
    "per so such than that the their them then there these they this those through to too "
    "under up use used uses using via was we were what when where which while who will with "
    "within without would you your"
)

STOP_WORDS = frozenset(_STOP_WORDS.split())

# How far a single-precision score may fall below its exact value.
SINGLE_PRECISION = 1e-6

_WORD = re.compile(r"[^\W_]+")

DUPLICATE_REVIEW_ROLES = frozenset(
    {Role.COE_REVIEWER, Role.COE_ADMIN, Role.RISK_OFFICER, Role.ADMIN}
)


def duplicate_threshold() -> float:
    return float(getattr(settings, "KEEL_DUPLICATE_THRESHOLD", DEFAULT_THRESHOLD))


def comparable_text(initiative: Initiative) -> str:
    return f"{initiative.title} {initiative.purpose}".lower()


def trigrams(text: str) -> frozenset[str]:
    """The set of 3-grams of ``text`` as pg_trgm builds it."""
    grams = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[index : index + 3] for index in range(len(padded) - 2))
    return frozenset(grams)


def similarity(first: str | frozenset, second: str | frozenset) -> float:
    """pg_trgm's ``similarity()``: shared trigrams over all trigrams (0 for empty texts)."""
    first_grams = first if isinstance(first, frozenset) else trigrams(first)
    second_grams = second if isinstance(second, frozenset) else trigrams(second)
    shared = len(first_grams & second_grams)
    union = len(first_grams) + len(second_grams) - shared
    return shared / union if union else 0.0


def is_comparable(initiative: Initiative) -> bool:
    """Ended (retired, rejected) and merged initiatives are neither flagged nor compared."""
    return initiative.stage not in ENDED_STAGES and initiative.merged_into_id is None


def comparable_initiatives() -> QuerySet[Initiative]:
    return Initiative.objects.exclude(stage__in=ENDED_STAGES).filter(merged_into__isnull=True)


def _others(initiative: Initiative) -> QuerySet[Initiative]:
    return (
        comparable_initiatives()
        .exclude(business_unit_id=initiative.business_unit_id)
        .exclude(pk=initiative.pk)
    )


def find_similar(
    initiative: Initiative, limit: int | None = 10, threshold: float | None = None
) -> list[tuple[Initiative, float]]:
    """Initiatives of *other* business units (not ended, not merged) whose title and purpose
    score at least ``threshold`` against this one's, best first: ``[(initiative, score)]``
    with scores from 0 to 1. ``limit=None`` returns all of them."""
    threshold = duplicate_threshold() if threshold is None else threshold
    text = comparable_text(initiative)
    if not trigrams(text):
        return []
    if connection.vendor == "postgresql":
        return _find_similar_postgresql(initiative, text, limit, threshold)
    return _find_similar_in_python(initiative, text, limit, threshold)


class ComparedText(Func):
    """``lower(title || ' ' || purpose)``: exactly the expression of the trigram index."""

    template = "lower(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("title"), Value(" "), F("purpose"))


class TrigramMatch(Func):
    """PostgreSQL's ``a % b``: similarity at least pg_trgm.similarity_threshold."""

    template = "(%(expressions)s)"
    arg_joiner = " %% "
    output_field = BooleanField()


def trigram_match(text: str) -> TrigramMatch:
    """The compared text is similar to ``text`` by ``%``, which the GIN index answers (at
    the threshold ``set_similarity_threshold`` sets)."""
    return TrigramMatch(ComparedText(), Value(text))


def postgresql_similar_queryset(initiative: Initiative, text: str) -> QuerySet[Initiative]:
    """Candidates of ``initiative`` matching ``text`` by ``trigram_match``, annotated with
    ``score``, best first."""
    return (
        _others(initiative)
        .select_related("business_unit")
        .filter(trigram_match(text))
        .annotate(
            score=Func(
                ComparedText(), Value(text), function="similarity", output_field=FloatField()
            )
        )
        .order_by("-score", "pk")
    )


def set_similarity_threshold(cursor, threshold: float) -> None:
    """What ``%`` compares with, for the current transaction only (set_config(..., true) is
    SET LOCAL, and unlike SET it takes a bound parameter)."""
    cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(threshold)])


def _find_similar_postgresql(initiative, text, limit, threshold):
    queryset = postgresql_similar_queryset(initiative, text)
    if limit is not None:
        queryset = queryset[:limit]
    with transaction.atomic(), connection.cursor() as cursor:
        set_similarity_threshold(cursor, threshold)
        rows = list(queryset)
    # similarity() is single precision: a score of exactly the threshold comes back a hair
    # below it (``%`` already let it through), where Python's exact fraction equals it.
    return [(row, row.score) for row in rows if row.score >= threshold - SINGLE_PRECISION]


def significant_words(text: str) -> list[str]:
    """The words worth pre-filtering candidates by: not stop words, three letters or more,
    longest first (they are the most selective)."""
    words = {word for word in _WORD.findall(text.lower()) if len(word) >= 3}
    words -= STOP_WORDS
    return sorted(words, key=lambda word: (-len(word), word))[:FALLBACK_FILTER_WORDS]


def _find_similar_in_python(initiative, text, limit, threshold):
    words = significant_words(text)
    if not words:
        return []
    shares_a_word = Q()
    for word in words:
        shares_a_word |= Q(title__icontains=word) | Q(purpose__icontains=word)
    candidates = (
        _others(initiative)
        .filter(shares_a_word)
        .order_by("-created_at", "-pk")
        .values_list("pk", "title", "purpose")[:FALLBACK_CANDIDATES]
    )
    subject = trigrams(text)
    scored = []
    for pk, title, purpose in candidates:
        score = similarity(subject, trigrams(f"{title} {purpose}"))
        if score >= threshold:
            scored.append((score, pk))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    if limit is not None:
        scored = scored[:limit]
    found = Initiative.objects.select_related("business_unit").in_bulk(pk for _, pk in scored)
    return [(found[pk], score) for score, pk in scored if pk in found]
