"""Helpers shared by the model lifecycle API tests (``test_model_api.py`` and
``test_model_api_transitions.py``): the versions endpoint, building models and versions
through the services, releasing a version through the gate, and the snapshot of everything a
refused call must leave as it was."""

from core.models import AuditEvent
from governance.approvals import services as engine
from governance.approvals.models import ApprovalRequest
from inventory.registry import services
from inventory.registry.choices import ModelStatus
from inventory.registry.models import (
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    Vendor,
    VendorProduct,
)
from tests.factories import UserFactory
from tests.inventory.helpers import COMPLETE_CARD

VERSIONS = "/api/v1/model-versions/"


def detail(pk, action=""):
    return f"{VERSIONS}{pk}/" + (f"{action}/" if action else "")


def serving_model(actor, unit, initiatives, name="fraud-scorer"):
    """A model of ``unit`` (owned by someone else) serving ``initiatives``, through the
    service so its effective tier is computed."""
    return services.model_create(
        actor=actor,
        data={
            "name": name,
            "model_type": "deep_learning",
            "business_unit": unit,
            "owner": UserFactory(),
            "initiatives": initiatives,
        },
    )


def new_version(actor, model, version, status=ModelStatus.DEVELOPMENT, **fields):
    return services.model_version_create(
        actor=actor,
        model=model,
        data={"version": version, "status": status, **COMPLETE_CARD, **fields},
    )


def released(version, submitter, *deciders):
    """Put ``version`` (approved) in production through the model release gate: submitted by
    ``submitter``, approved by each of ``deciders`` in turn unless it was fast-tracked."""
    request = engine.model_release_submit(actor=submitter, version=version)
    for decider in deciders:
        request.refresh_from_db()
        if request.status != "pending":
            break
        engine.request_decide(actor=decider, request=request, outcome="approve")
    version.refresh_from_db()
    assert version.status == ModelStatus.PRODUCTION
    return version


def state() -> dict:
    """Everything a denied call must leave as it was."""
    return {
        "versions": list(ModelVersion.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
        "metrics": EvaluationMetric.objects.count(),
        "reports": MonitoringReport.objects.count(),
        "requests": ApprovalRequest.objects.count(),
        "vendors": list(Vendor.objects.order_by("pk").values()),
        "products": VendorProduct.objects.count(),
    }
