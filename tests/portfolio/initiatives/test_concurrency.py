"""Concurrent writes on PostgreSQL: references stay unique and gapless, the audit chain stays
intact, and a stage change applies once however many users click at the same moment.

Each thread has its own database connection (Django's are per thread) and closes it at the
end. The tests are transactional so the threads see the committed fixtures.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core.audit import verify_audit_chain
from core.models import AuditEvent, BusinessUnit, Sequence
from portfolio.initiatives import services
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative, StageChange
from tests.concurrency import run_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="row locks and real concurrency need PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 10


class CreateInitiative:
    def __init__(self, user_pk, unit_pk):
        self.user_pk, self.unit_pk = user_pk, unit_pk

    def prepare(self, i):
        # Each thread loads its own objects through its own connection.
        user = get_user_model().objects.get(pk=self.user_pk)
        unit = BusinessUnit.objects.get(pk=self.unit_pk)
        return user, {"title": f"Concurrent {i}", "business_unit": unit, "accountable_owner": user}

    def __call__(self, prepared):
        user, data = prepared
        return services.initiative_create(actor=user, data=data).reference


class ProposeInitiative:
    def __init__(self, user_pk, initiative_pk):
        self.user_pk, self.initiative_pk = user_pk, initiative_pk

    def prepare(self, i):
        user = get_user_model().objects.get(pk=self.user_pk)
        return user, Initiative.objects.get(pk=self.initiative_pk)

    def __call__(self, prepared):
        user, initiative = prepared
        return services.initiative_change_stage(
            actor=user, initiative=initiative, to_stage=Stage.PROPOSED
        ).stage


def test_concurrent_creates_get_unique_gapless_references(member_a, unit_a):
    results = run_at_once(THREADS, CreateInitiative(member_a.pk, unit_a.pk))

    errors = [value for status, value in results if status == "error"]
    assert errors == []
    references = sorted(value for _, value in results)
    assert references == [f"AI-{n:04d}" for n in range(1, THREADS + 1)]
    assert sorted(Initiative.objects.values_list("reference", flat=True)) == references
    assert Sequence.objects.get(name="initiative").last_value == THREADS

    # One audit event per create, sequenced 1..N, and the chain verifies.
    # Gapless, whatever other events (control evaluations) the creations triggered.
    assert sorted(AuditEvent.objects.values_list("sequence", flat=True)) == list(
        range(1, AuditEvent.objects.count() + 1)
    )
    assert AuditEvent.objects.filter(action="initiative.created").count() == THREADS
    report = verify_audit_chain()
    assert report.ok, report.describe()
    assert report.checked == AuditEvent.objects.count()


def test_concurrent_stage_changes_apply_once(member_a, unit_a):
    initiative = services.initiative_create(
        actor=member_a,
        data={"title": "Claims triage", "business_unit": unit_a, "accountable_owner": member_a},
    )

    results = run_at_once(2, ProposeInitiative(member_a.pk, initiative.pk))

    successes = [value for status, value in results if status == "ok"]
    failures = [value for status, value in results if status == "error"]
    assert successes == [Stage.PROPOSED]
    assert len(failures) == 1
    assert isinstance(failures[0], ValidationError), repr(failures[0])

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSED
    assert StageChange.objects.filter(initiative=initiative, to_stage=Stage.PROPOSED).count() == 1
    assert AuditEvent.objects.filter(action="initiative.stage_changed").count() == 1
    assert verify_audit_chain().ok
