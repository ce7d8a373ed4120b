"""API for cross-BU adoption: POST /api/v1/initiatives/{id}/adopt/ plans the caller's
unit's deployment and submits it for the ``scale`` gate (the same composition as the HTML
view, ``portfolio.deployment_views.adopt_initiative``)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import BusinessUnit
from governance.models import ApprovalRequest
from portfolio import selectors
from portfolio.deployment_views import adopt_initiative

from .serializers import DeploymentSerializer


class AdoptSerializer(serializers.Serializer):
    business_unit = serializers.PrimaryKeyRelatedField(
        queryset=BusinessUnit.objects.all(),
        help_text="The caller's business unit that adopts the initiative.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class AdoptionRequestSerializer(serializers.ModelSerializer):
    # A plain number: the tier's choices already have a name in the schema.
    tier = serializers.IntegerField(read_only=True, help_text="Risk tier, 1–4.")

    class Meta:
        model = ApprovalRequest
        fields = ["id", "gate", "tier", "status", "fast_tracked", "submitted_at"]
        read_only_fields = fields


class AdoptionSerializer(serializers.Serializer):
    deployment = DeploymentSerializer()
    approval_request = AdoptionRequestSerializer()


class InitiativeAdoptView(APIView):
    """Adopt an initiative in another business unit through the Scale gate."""

    @extend_schema(
        tags=["initiatives"],
        request=AdoptSerializer,
        responses={
            201: AdoptionSerializer,
            400: OpenApiResponse(
                description="Refused with field errors: not adoptable, already deployed in "
                "that unit, or the Scale gate's blockers."
            ),
            403: OpenApiResponse(description="The caller cannot adopt for that unit."),
            404: OpenApiResponse(description="No such initiative the caller may see."),
            409: OpenApiResponse(description="A Scale request is already open."),
        },
        description="Plan a deployment of the initiative for one of the caller's business "
        "units and submit it for the Scale gate; approval puts the deployment in production "
        "(a Tier 1 request with passing automated controls is fast-tracked).",
    )
    def post(self, request, pk):
        initiative = selectors.initiative_get(user=request.user, pk=pk)
        payload = AdoptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        deployment, approval = adopt_initiative(
            actor=request.user,
            initiative=initiative,
            business_unit=payload.validated_data["business_unit"],
            comment=payload.validated_data["comment"],
        )
        body = AdoptionSerializer({"deployment": deployment, "approval_request": approval})
        return Response(body.data, status=status.HTTP_201_CREATED)
