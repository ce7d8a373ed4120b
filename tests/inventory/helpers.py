"""Factories and row builders for the inventory tests (additions to tests/factories.py)."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from core.models import AuditEvent
from inventory.registry.choices import ModelStatus
from inventory.registry.models import ModelVersion
from tests.factories import (
    AIModelFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    UserFactory,
    VendorFactory,
)


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(AIModelFactory)
    version = factory.Sequence(lambda n: f"1.{n}")
    status = ModelStatus.DEVELOPMENT


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def iso(day: datetime.date) -> str:
    return day.isoformat()


def today() -> datetime.date:
    return timezone.localdate()


# Row builders for the query-count tests. Every row gets its *own* related rows (vendor,
# owner, GPU type, pool, initiative …) so that a per-row query for any of them would show up
# as a count that grows with the number of rows.


def make_models(count: int, *, business_unit, start: int = 0) -> None:
    for n in range(start, start + count):
        model = AIModelFactory(
            name=f"counted-model-{n}",
            business_unit=business_unit,
            vendor=VendorFactory(name=f"Counted vendor {n}"),
        )
        ModelVersionFactory(model=model)
        model.initiatives.add(InitiativeFactory(business_unit=business_unit))


def make_pools(count: int, *, business_unit, start: int = 0) -> None:
    for n in range(start, start + count):
        pool = GPUPoolFactory(
            name=f"counted-pool-{n}",
            gpu_type=GPUTypeFactory(name=f"Counted GPU {n}"),
        )
        GPUAllocationFactory(pool=pool, business_unit=business_unit, gpu_count=Decimal("2"))


def make_allocations(count: int, *, business_unit, start: int = 0) -> None:
    for n in range(start, start + count):
        GPUAllocationFactory(
            pool=GPUPoolFactory(
                name=f"counted-pool-{n}", gpu_type=GPUTypeFactory(name=f"Counted GPU {n}")
            ),
            business_unit=business_unit,
            initiative=InitiativeFactory(business_unit=business_unit),
            requested_by=UserFactory(),
            approved_by=UserFactory(),
        )


def form_data(form, **overrides) -> dict:
    """What a browser would post for ``form`` as rendered (its initial values), plus
    ``overrides``; lists are posted as repeated keys by the test client."""
    data = {}
    for bound_field in form:
        value = bound_field.value()
        if value is None:
            value = ""
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        data[bound_field.name] = value
    data.update(overrides)
    return data


# --- Model lifecycle API (tests/inventory/registry/) ---------------------------------

# The model card fields MOD-01 needs for a release.
COMPLETE_CARD = {
    "intended_use": "Score card transactions for fraud review.",
    "limitations": "Not validated for business accounts.",
    "human_oversight": "Analysts confirm every block.",
}


def make_versions(count: int, *, business_unit, start: int = 0) -> None:
    """Versions each of their own model, with a metric and a monitoring report."""
    from inventory.registry.choices import MonitoringSource, MonitoringStatus
    from inventory.registry.models import EvaluationMetric, MonitoringReport

    for n in range(start, start + count):
        version = ModelVersionFactory(
            model=AIModelFactory(name=f"versioned-model-{n}", business_unit=business_unit)
        )
        EvaluationMetric.objects.create(version=version, name="auc", value=0.9, measured_on=today())
        MonitoringReport.objects.create(
            version=version,
            status=MonitoringStatus.HEALTHY,
            source=MonitoringSource.MANUAL,
            reported_at=timezone.now(),
        )


def make_vendors(count: int, *, business_unit=None, start: int = 0) -> None:
    """Vendors each with a product and a model using it."""
    from inventory.registry.models import VendorProduct

    for n in range(start, start + count):
        vendor = VendorFactory(name=f"Counted vendor {n}")
        VendorProduct.objects.create(vendor=vendor, name=f"Product {n}", kind="saas_ai")
        AIModelFactory(name=f"vendor-model-{n}", vendor=vendor)
