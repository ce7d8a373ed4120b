"""API for GPU requests (through the gpu_request gate), quotas with usage against quota,
external matching keys; the catalogue's viewset (``inventory.gpu.api``) is registered here
with them. Reads come from
``inventory.capacity.selectors`` (scoped), writes from ``inventory.capacity.services``."""

from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from governance.approvals.models import ApprovalRequest
from inventory.capacity import selectors as quota_selectors
from inventory.capacity import services as gpu_requests
from inventory.capacity.api.serializers import (
    ExternalKeySerializer,
    GPUQuotaSerializer,
    GPUQuotaUpdateSerializer,
    GPURequestSerializer,
)
from inventory.capacity.filtersets import (
    ExternalKeyFilterSet,
    GPUQuotaFilterSet,
    GPURequestFilterSet,
)
from inventory.gpu.api import GPUTypeViewSet

REFUSALS = {
    400: OpenApiResponse(description="Invalid input, or refused with field errors."),
    401: OpenApiResponse(description="Not signed in (token or session)."),
    403: OpenApiResponse(description="The caller may not do this."),
}


def with_approval_request(requests):
    """GPU requests annotated with the id of their latest gpu_request gate request."""
    gate_requests = ApprovalRequest.objects.filter(
        gate=gpu_requests.GPU_REQUEST_GATE,
        subject_type=gpu_requests.GPU_REQUEST_SUBJECT,
        subject_id=Cast(OuterRef("pk"), CharField()),
    ).order_by("-submitted_at", "-pk")
    return requests.annotate(approval_request_id=Subquery(gate_requests.values("pk")[:1]))


@extend_schema(tags=["gpu"])
@extend_schema_view(
    list=extend_schema(summary="GPU requests the caller may see"),
    retrieve=extend_schema(summary="A GPU request with its status and allocation"),
    create=extend_schema(
        summary="Ask for GPUs (submitted to the gpu_request gate)",
        description="Fast-pathed (status approved, fast_tracked true, allocation set) when "
        "within quota and the fast-path size and the policy allows it; otherwise pending "
        "for the approvers. Over-committing the pool is refused with a field error.",
        responses={201: GPURequestSerializer, **REFUSALS},
    ),
)
class GPURequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = GPURequestSerializer
    filterset_class = GPURequestFilterSet

    def get_queryset(self):
        return with_approval_request(quota_selectors.requests_list(user=self.request.user))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gpu_request = gpu_requests.gpu_request_create(
            actor=request.user, data=serializer.validated_data
        )
        fresh = self.get_queryset().get(pk=gpu_request.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["gpu"])
@extend_schema_view(
    list=extend_schema(summary="GPU quotas with usage against quota"),
    create=extend_schema(responses={201: GPUQuotaSerializer, **REFUSALS}),
    update=extend_schema(request=GPUQuotaUpdateSerializer, responses=GPUQuotaSerializer),
    partial_update=extend_schema(request=GPUQuotaUpdateSerializer, responses=GPUQuotaSerializer),
)
class GPUQuotaViewSet(viewsets.ModelViewSet):
    """Read for everyone (scoped to their units); written by platform engineers and CoE
    admins."""

    filterset_class = GPUQuotaFilterSet

    def get_queryset(self):
        return quota_selectors.quota_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return GPUQuotaUpdateSerializer
        return GPUQuotaSerializer

    def _respond(self, quota, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=quota.pk)
        return Response(GPUQuotaSerializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quota = gpu_requests.quota_create(actor=request.user, data=serializer.validated_data)
        return self._respond(quota, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        quota = self.get_object()
        serializer = self.get_serializer(
            quota, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        quota = gpu_requests.quota_update(
            actor=request.user, quota=quota, data=serializer.validated_data
        )
        return self._respond(quota)

    def destroy(self, request, *args, **kwargs):
        gpu_requests.quota_delete(actor=request.user, quota=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["gpu"])
@extend_schema_view(create=extend_schema(responses={201: ExternalKeySerializer, **REFUSALS}))
class ExternalKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Names usage and cost data use for workloads (namespaces, Slurm accounts, cost tags …)."""

    serializer_class = ExternalKeySerializer
    filterset_class = ExternalKeyFilterSet

    def get_queryset(self):
        return quota_selectors.external_key_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = gpu_requests.external_key_create(
            actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        gpu_requests.external_key_delete(actor=self.request.user, key=instance)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("gpu-requests", GPURequestViewSet, basename="gpu-request")
    router.register("gpu-quotas", GPUQuotaViewSet, basename="gpu-quota")
    router.register("external-keys", ExternalKeyViewSet, basename="external-key")
    router.register("gpu-types", GPUTypeViewSet, basename="gpu-type")
