"""Fixtures shared by the model lifecycle API tests (``test_model_api.py`` and
``test_model_api_transitions.py``): an API client and a model with a version in each of
development, approved and production. A module may define its own fixture of the same name
(``test_model_views.py`` has its own ``lifecycle``), which then takes precedence there."""

import pytest
from rest_framework.test import APIClient

from inventory.registry.choices import ModelStatus
from tests.governance.helpers import LOW_RISK, assessed
from tests.inventory.registry.helpers import new_version, released, serving_model


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def lifecycle(unit_a, member_a, platform_engineer, coe_reviewer):
    """A model of unit A serving a Tier 1 initiative of unit A, with a version in
    development, one approved and one in production."""
    initiative = assessed(unit_a, member_a, LOW_RISK)
    model = serving_model(platform_engineer, unit_a, [initiative])
    approved = new_version(platform_engineer, model, "2.0", ModelStatus.APPROVED)
    production = released(
        new_version(platform_engineer, model, "1.0", ModelStatus.APPROVED),
        platform_engineer,
        coe_reviewer,
    )
    return {
        "initiative": initiative,
        "model": model,
        "development": new_version(platform_engineer, model, "3.0-dev"),
        "approved": approved,
        "production": production,
    }
