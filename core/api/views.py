from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from core import selectors, services
from core.api.serializers import BusinessUnitSerializer


@extend_schema(tags=["business units"])
class BusinessUnitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Business units visible to the caller; CoE admins may create and change them."""

    serializer_class = BusinessUnitSerializer
    filterset_fields = ["code", "parent"]

    def get_queryset(self):
        return selectors.business_unit_list(user=self.request.user).order_by("name")

    def perform_create(self, serializer):
        serializer.instance = services.business_unit_create(
            actor=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.business_unit_update(
            actor=self.request.user,
            business_unit=serializer.instance,
            data=serializer.validated_data,
        )


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
