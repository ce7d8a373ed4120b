"""Fixtures shared by the GPU request and quota tests (a test module may define its own)."""

from decimal import Decimal

import pytest

from inventory.capacity.models import GPUQuota
from tests.factories import GPUPoolFactory
from tests.governance.helpers import LOW_RISK, assessed


@pytest.fixture
def pool(db):
    """A 16-GPU pool with no allocations."""
    return GPUPoolFactory(name="k8s-h100", gpu_count=16)


@pytest.fixture
def quota(unit_a, pool):
    """unit_a may hold 8 GPUs of ``pool`` (4 deserved)."""
    return GPUQuota.objects.create(
        business_unit=unit_a, pool=pool, deserved_gpus=Decimal("4"), limit_gpus=Decimal("8")
    )


@pytest.fixture
def initiative(unit_a, member_a):
    """A Tier 1 initiative of unit_a: its gpu_request policy allows a fast path."""
    return assessed(unit_a, member_a, LOW_RISK)
