from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api.views import BusinessUnitViewSet
from governance.api.views import (
    ControlResultViewSet,
    ControlViewSet,
    GateBlockersView,
    RiskAssessmentViewSet,
    RiskRegisterViewSet,
)
from inventory.api.views import (
    AIModelViewSet,
    GPUAllocationViewSet,
    GPUPoolViewSet,
)
from portfolio.api.views import InitiativeViewSet

router = DefaultRouter()
router.register("business-units", BusinessUnitViewSet, basename="business-unit")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("models", AIModelViewSet, basename="ai-model")
router.register("gpu-pools", GPUPoolViewSet, basename="gpu-pool")
router.register("gpu-allocations", GPUAllocationViewSet, basename="gpu-allocation")
router.register("risk-assessments", RiskAssessmentViewSet, basename="risk-assessment")
router.register("risk-register", RiskRegisterViewSet, basename="risk-register")
router.register("controls", ControlViewSet, basename="control")
router.register("control-results", ControlResultViewSet, basename="control-result")

urlpatterns = [
    *router.urls,
    path(
        "governance/initiatives/<int:pk>/blockers/",
        GateBlockersView.as_view(),
        name="initiative-gate-blockers",
    ),
]
