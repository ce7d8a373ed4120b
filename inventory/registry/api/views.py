from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.views import ServiceBackedViewSet
from governance.approvals.services import model_release_submit
from inventory.registry import selectors, services
from inventory.registry import services as model_services
from inventory.registry.api.filtersets import ModelVersionFilterSet
from inventory.registry.api.serializers import (
    AIModelSerializer,
    EvaluationMetricSerializer,
    ModelReleaseApprovalSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    MonitoringInputSerializer,
    MonitoringReportSerializer,
    ReleaseCommentSerializer,
    TransitionSerializer,
    ValidationRecordSerializer,
    VendorProductSerializer,
    VendorSerializer,
)
from inventory.registry.choices import MonitoringSource
from inventory.registry.filtersets import AIModelFilterSet, VendorFilterSet


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


def _validated(request, serializer_class) -> dict:
    """The action's body checked by ``serializer_class`` (400 with field errors otherwise)."""
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _responses(ok_status, ok_serializer) -> dict:
    return {
        ok_status: ok_serializer,
        400: OpenApiResponse(description="Invalid input, or refused with field errors."),
        401: OpenApiResponse(description="Not signed in (token or session)."),
        403: OpenApiResponse(description="The caller may see the object but not change it."),
        404: OpenApiResponse(description="No such object the caller may see."),
        409: OpenApiResponse(
            description="The object changed meanwhile, or the move is not "
            "allowed from its current status."
        ),
    }


@extend_schema(tags=["models"])
@extend_schema_view(
    list=extend_schema(summary="Model versions the caller may see"),
    retrieve=extend_schema(
        summary="A version with its evaluation metrics and monitoring history",
        responses=ModelVersionDetailSerializer,
    ),
    create=extend_schema(
        summary="Add a version to a model",
        responses=_responses(201, ModelVersionSerializer),
    ),
    partial_update=extend_schema(
        summary="Edit a version's details and model card (a status is refused)",
        responses=_responses(200, ModelVersionSerializer),
    ),
)
class ModelVersionViewSet(ServiceBackedViewSet):
    """Versions of the models the caller may see. The status changes only through the
    ``transition`` action (and production only through ``release`` and its approval)."""

    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilterSet
    selector = selectors.model_version_list
    update_service = model_services.model_version_update
    update_keyword = "version"
    # No PUT: an edit is partial, and the status is never part of it.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ModelVersionDetailSerializer
        return super().get_serializer_class()

    def get_object(self):
        if self.action == "retrieve":
            version = selectors.model_version_get(user=self.request.user, pk=self.kwargs["pk"])
            self.check_object_permissions(self.request, version)
            return version
        return super().get_object()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        model = data.pop("model")
        serializer.instance = services.model_version_create(
            actor=self.request.user, model=model, data=data
        )

    @extend_schema(
        summary="Change a version's status",
        request=TransitionSerializer,
        responses=_responses(200, ModelVersionSerializer),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the version along the lifecycle (development → validation → approved …).
        Production is refused here: it follows an approved model release."""
        version = self.get_object()
        data = _validated(request, TransitionSerializer)
        updated = model_services.model_version_change_status(
            actor=request.user, version=version, to_status=data["status"], reason=data["reason"]
        )
        return Response(ModelVersionSerializer(updated, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Ask to release an approved version to production",
        request=ReleaseCommentSerializer,
        responses=_responses(201, ModelReleaseApprovalSerializer),
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Submit the ``model_release`` gate of the highest-tier initiative the model serves.
        Approval of the request puts the version in production."""
        version = self.get_object()
        data = _validated(request, ReleaseCommentSerializer)
        approval = model_release_submit(
            actor=request.user, version=version, comment=data["comment"]
        )
        return Response(
            ModelReleaseApprovalSerializer(approval).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Record a (re)validation",
        request=ValidationRecordSerializer,
        responses=_responses(200, ModelVersionSerializer),
    )
    @action(detail=True, methods=["post"])
    def validation(self, request, pk=None):
        """The review clock restarts from ``validated_on`` (not in the future)."""
        version = self.get_object()
        data = _validated(request, ValidationRecordSerializer)
        updated = model_services.model_version_record_validation(
            actor=request.user,
            version=version,
            validated_on=data["validated_on"],
            note=data["note"],
        )
        return Response(ModelVersionSerializer(updated, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Add an evaluation metric",
        request=EvaluationMetricSerializer,
        responses=_responses(201, EvaluationMetricSerializer),
    )
    @action(detail=True, methods=["post"])
    def metrics(self, request, pk=None):
        version = self.get_object()
        data = _validated(request, EvaluationMetricSerializer)
        metric = model_services.evaluation_metric_add(
            actor=request.user, version=version, data=data
        )
        return Response(EvaluationMetricSerializer(metric).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Report the monitoring status of a version in production",
        description="For monitoring jobs: authenticate with `Authorization: Token <key>` "
        "(a service account holding the platform-engineer role) or a session. The report is "
        "kept in the version's history with source `api`. Turning `drifting` notifies the "
        "model's people and makes the MON-02 control fail for every initiative that uses the "
        "model. Metric values must be finite numbers (at most 1e9 in magnitude; drift_score "
        "and *_share between 0 and 1): otherwise 400 with a `metrics` error and nothing is "
        "recorded.",
        request=MonitoringInputSerializer,
        responses=_responses(201, MonitoringReportSerializer),
    )
    @action(detail=True, methods=["post"])
    def monitoring(self, request, pk=None):
        version = self.get_object()
        data = _validated(request, MonitoringInputSerializer)
        report = model_services.model_version_report_monitoring(
            actor=request.user,
            version=version,
            status=data["status"],
            metrics=data["metrics"],
            note=data["note"],
            source=MonitoringSource.API,
        )
        return Response(MonitoringReportSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["vendors"])
@extend_schema_view(
    create=extend_schema(responses=_responses(201, VendorSerializer)),
    update=extend_schema(responses=_responses(200, VendorSerializer)),
    partial_update=extend_schema(responses=_responses(200, VendorSerializer)),
)
class VendorViewSet(ServiceBackedViewSet):
    """The vendor register (contracts, data-processing terms, due diligence) and each vendor's
    products. Every signed-in user reads it; the CoE and platform engineers keep it."""

    serializer_class = VendorSerializer
    filterset_class = VendorFilterSet
    selector = selectors.vendor_register_list
    create_service = model_services.vendor_create
    update_service = model_services.vendor_update
    update_keyword = "vendor"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("products")

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)  # with counts

    def perform_update(self, serializer):
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(methods=["GET"], responses=VendorProductSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=VendorProductSerializer,
        responses=_responses(201, VendorProductSerializer),
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def products(self, request, pk=None):
        """The vendor's products; POST adds one."""
        vendor = self.get_object()
        if request.method == "GET":
            return Response(VendorProductSerializer(vendor.products.all(), many=True).data)
        data = _validated(request, VendorProductSerializer)
        product = model_services.vendor_product_create(actor=request.user, vendor=vendor, data=data)
        return Response(VendorProductSerializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PUT", "PATCH"],
        request=VendorProductSerializer,
        responses=_responses(200, VendorProductSerializer),
    )
    @action(
        detail=True,
        methods=["put", "patch"],
        url_path=r"products/(?P<product_pk>[0-9]+)",
        pagination_class=None,
        filterset_class=None,
    )
    def product(self, request, pk=None, product_pk=None):
        """Edit one of the vendor's products (PUT sends every field, PATCH only those to
        change); 404 if it is another vendor's."""
        product = selectors.vendor_product_get(user=request.user, vendor_pk=pk, pk=product_pk)
        payload = VendorProductSerializer(
            product, data=request.data, partial=request.method == "PATCH"
        )
        payload.is_valid(raise_exception=True)
        product = model_services.vendor_product_update(
            actor=request.user, product=product, data=payload.validated_data
        )
        return Response(VendorProductSerializer(product).data)
