"""``manage.py seed_demo``: a believable, consistent, idempotent demo organisation."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.audit import verify_audit_chain
from core.models import AuditEvent, BusinessUnit, Membership, Sequence
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.registry.models import AIModel, ModelVersion, Vendor
from portfolio.initiatives import services
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Deployment, Initiative, StageChange

pytestmark = pytest.mark.django_db

COUNTED_MODELS = (
    BusinessUnit,
    Membership,
    Initiative,
    StageChange,
    Deployment,
    AIModel,
    AIModel.initiatives.through,
    ModelVersion,
    Vendor,
    GPUType,
    GPUPool,
    GPUAllocation,
    AuditEvent,
)


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    result = {model.__name__: model.objects.count() for model in COUNTED_MODELS}
    result["User"] = get_user_model().objects.count()
    return result


def reference_numbers() -> list[int]:
    references = Initiative.objects.values_list("reference", flat=True)
    return sorted(int(reference.removeprefix("AI-")) for reference in references)


def test_second_run_creates_nothing():
    seed()
    before = counts()

    output = seed()

    assert counts() == before
    assert "already seeded" in output
    assert verify_audit_chain().ok


def test_missing_rows_are_recreated_identically():
    seed()
    snapshot = sorted(
        Initiative.objects.values_list("external_id", "title", "stage", "business_unit__code")
    )
    Initiative.objects.filter(external_id__in=["demo-0007", "demo-0042"]).delete()

    seed()

    assert Initiative.objects.count() == 120
    recreated = sorted(
        Initiative.objects.values_list("external_id", "title", "stage", "business_unit__code")
    )
    assert recreated == snapshot
    assert reference_numbers()[-2:] == [121, 122]


def test_scale_adds_rows_and_continues_the_reference_sequence(member_a, unit_a):
    # An initiative registered before seeding keeps AI-0001; the seed continues after it.
    first = services.initiative_create(
        actor=member_a,
        data={"title": "Branch footfall", "business_unit": unit_a, "accountable_owner": member_a},
    )
    assert first.reference == "AI-0001"

    seed("--scale", "300")

    assert Initiative.objects.count() == 1 + 120 + 300
    assert Initiative.objects.filter(external_id__startswith="demo-scale-").count() == 300
    assert reference_numbers() == list(range(1, 422))
    assert Sequence.objects.get(name="initiative").last_value == 421
    assert set(Initiative.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert AIModel.objects.count() == 40 + 100
    assert GPUAllocation.objects.count() == 200 + 450
    assert AuditEvent.objects.filter(action="demo.seeded").count() == 1
    later = services.initiative_create(
        actor=member_a,
        data={"title": "Queue forecasting", "business_unit": unit_a, "accountable_owner": member_a},
    )
    assert later.reference == "AI-0422"

    before = counts()
    seed("--scale", "300")
    assert counts() == before
    assert verify_audit_chain().ok


def test_growing_the_scale_adds_only_the_difference():
    seed("--scale", "150")
    first_titles = dict(
        Initiative.objects.filter(external_id__startswith="demo-scale-").values_list(
            "external_id", "title"
        )
    )

    output = seed("--scale", "300")

    assert Initiative.objects.filter(external_id__startswith="demo-scale-").count() == 300
    assert AIModel.objects.count() == 40 + 100
    assert GPUAllocation.objects.count() == 200 + 450
    # 150 scaled initiatives created; the base 120 and the first 150 were already there.
    assert re.search(r"^initiatives\s+150\s+270$", output, re.MULTILINE)
    kept = Initiative.objects.filter(external_id__in=first_titles).values_list(
        "external_id", "title"
    )
    assert dict(kept) == first_titles
    assert len(set(reference_numbers())) == Initiative.objects.count()
