from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api.views import BusinessUnitViewSet
from governance.approvals.api.views import ApprovalRequestViewSet
from governance.imports import api as governance_imports_api
from governance.incidents.api.views import IncidentViewSet
from governance.reporting.api import DashboardView
from governance.risk.api.views import (
    ControlResultViewSet,
    ControlViewSet,
    GateBlockersView,
    RiskAssessmentViewSet,
    RiskRegisterViewSet,
)
from inventory.capacity.api import views as inventory_requests_api
from inventory.finops import api as inventory_finops_api
from inventory.gpu.api import GPUAllocationViewSet, GPUPoolViewSet
from inventory.registry.api.views import AIModelViewSet, ModelVersionViewSet, VendorViewSet
from inventory.usage.api import ingest as inventory_ingest_api
from inventory.usage.api import views as inventory_usage_api
from portfolio.duplicates.api.views import DuplicateCandidateViewSet
from portfolio.initiatives.api.views import InitiativeViewSet
from portfolio.roadmap.api.views import (
    RoadmapActivityViewSet,
    RoadmapPhaseViewSet,
    SuccessIndicatorViewSet,
)
from portfolio.scaling.api import BarrierAssessmentViewSet, InitiativeAdoptView, ScalingMetricsView

router = DefaultRouter()
router.register("business-units", BusinessUnitViewSet, basename="business-unit")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("duplicate-candidates", DuplicateCandidateViewSet, basename="duplicate-candidate")
router.register("models", AIModelViewSet, basename="ai-model")
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("vendors", VendorViewSet, basename="vendor")
router.register("gpu-pools", GPUPoolViewSet, basename="gpu-pool")
router.register("gpu-allocations", GPUAllocationViewSet, basename="gpu-allocation")
router.register("risk-assessments", RiskAssessmentViewSet, basename="risk-assessment")
router.register("risk-register", RiskRegisterViewSet, basename="risk-register")
router.register("controls", ControlViewSet, basename="control")
router.register("control-results", ControlResultViewSet, basename="control-result")
router.register("approval-requests", ApprovalRequestViewSet, basename="approval-request")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("roadmap/phases", RoadmapPhaseViewSet, basename="roadmap-phase")
router.register("roadmap/activities", RoadmapActivityViewSet, basename="roadmap-activity")
router.register("roadmap/indicators", SuccessIndicatorViewSet, basename="roadmap-indicator")
router.register("barrier-assessments", BarrierAssessmentViewSet, basename="barrier-assessment")
# GPU FinOps: each module registers its own viewsets.
inventory_ingest_api.register(router)
inventory_requests_api.register(router)
inventory_finops_api.register(router)
inventory_usage_api.register(router)
governance_imports_api.register(router)

urlpatterns = [
    *router.urls,
    path("metrics/scaling/", ScalingMetricsView.as_view(), name="scaling-metrics"),
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path(
        "governance/initiatives/<int:pk>/blockers/",
        GateBlockersView.as_view(),
        name="initiative-gate-blockers",
    ),
    path(
        "initiatives/<int:pk>/adopt/",
        InitiativeAdoptView.as_view(),
        name="initiative-adopt",
    ),
]
