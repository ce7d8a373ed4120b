from rest_framework.routers import DefaultRouter

from core.api.views import BusinessUnitViewSet
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

urlpatterns = router.urls
