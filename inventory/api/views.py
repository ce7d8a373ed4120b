from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from inventory import selectors, services
from inventory.filtersets import AIModelFilterSet, GPUAllocationFilterSet, GPUPoolFilterSet

from .serializers import AIModelSerializer, GPUAllocationSerializer, GPUPoolSerializer


class ServiceBackedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """CRUD whose reads come from a selector and whose writes call a service."""

    selector = None
    create_service = None
    update_service = None
    update_keyword = ""

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            actor=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            actor=self.request.user,
            data=serializer.validated_data,
            **{self.update_keyword: serializer.instance},
        )


@extend_schema(tags=["models"])
class AIModelViewSet(ServiceBackedViewSet):
    serializer_class = AIModelSerializer
    filterset_class = AIModelFilterSet
    selector = selectors.model_list
    create_service = services.model_create
    update_service = services.model_update
    update_keyword = "model"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("initiatives")


@extend_schema(tags=["gpu"])
class GPUPoolViewSet(ServiceBackedViewSet):
    serializer_class = GPUPoolSerializer
    filterset_class = GPUPoolFilterSet
    selector = selectors.pool_list
    create_service = services.pool_create
    update_service = services.pool_update
    update_keyword = "pool"


@extend_schema(tags=["gpu"])
class GPUAllocationViewSet(ServiceBackedViewSet):
    serializer_class = GPUAllocationSerializer
    filterset_class = GPUAllocationFilterSet
    selector = selectors.allocation_list
    create_service = services.allocation_create
    update_service = services.allocation_update
    update_keyword = "allocation"
