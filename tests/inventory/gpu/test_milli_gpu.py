"""GPU counts at the milli-GPU grain (issue 17, item 9): stored to 0.001 and GPU-hours exact."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.periods import allocated_gpu_hours
from inventory.gpu import services
from inventory.gpu.choices import AllocationPurpose, SharingMode
from inventory.gpu.forms import GPUAllocationForm
from inventory.gpu.models import GPUAllocation
from tests.factories import GPUPoolFactory

pytestmark = pytest.mark.django_db


def test_a_milli_gpu_allocation_is_stored_exactly_and_its_hours_are_exact(
    platform_engineer, unit_a
):
    pool = GPUPoolFactory(sharing_mode=SharingMode.TIME_SLICED, gpu_count=1)
    allocation = services.allocation_create(
        actor=platform_engineer,
        data={
            "pool": pool,
            "gpu_count": Decimal("0.125"),
            "business_unit": unit_a,
            "purpose": AllocationPurpose.INFERENCE,
            "starts_on": dt.date(2025, 6, 1),
            "ends_on": dt.date(2025, 6, 30),
        },
    )
    allocation.refresh_from_db()
    assert allocation.gpu_count == Decimal("0.125")
    # 0.125 GPU × 24 h × 30 days
    hours = allocated_gpu_hours(
        allocation.gpu_count,
        allocation.starts_on,
        allocation.ends_on,
        dt.date(2025, 6, 1),
        dt.date(2025, 6, 30),
    )
    assert hours == Decimal("90.000")


def test_the_last_milli_gpus_of_a_pool_are_counted_exactly(platform_engineer, unit_a):
    pool = GPUPoolFactory(sharing_mode=SharingMode.TIME_SLICED, gpu_count=1)
    data = {
        "pool": pool,
        "business_unit": unit_a,
        "purpose": AllocationPurpose.INFERENCE,
        "starts_on": dt.date(2025, 6, 1),
    }
    services.allocation_create(
        actor=platform_engineer, data={**data, "gpu_count": Decimal("0.999")}
    )
    services.allocation_create(
        actor=platform_engineer, data={**data, "gpu_count": Decimal("0.001")}
    )
    with pytest.raises(ValidationError) as refused:
        services.allocation_create(
            actor=platform_engineer, data={**data, "gpu_count": Decimal("0.001")}
        )
    assert "gpu_count" in refused.value.message_dict
    assert GPUAllocation.objects.filter(pool=pool).count() == 2


def test_the_form_takes_three_decimals_and_refuses_four(platform_engineer, unit_a):
    pool = GPUPoolFactory(sharing_mode=SharingMode.TIME_SLICED)
    data = {
        "pool": pool.pk,
        "business_unit": unit_a.pk,
        "purpose": AllocationPurpose.INFERENCE,
        "starts_on": "2025-06-01",
    }
    assert GPUAllocationForm({**data, "gpu_count": "0.125"}, user=platform_engineer).is_valid()
    form = GPUAllocationForm({**data, "gpu_count": "0.1255"}, user=platform_engineer)
    assert not form.is_valid()
    assert "gpu_count" in form.errors
