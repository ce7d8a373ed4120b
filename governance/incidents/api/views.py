"""The incident API: CRUD over scoped incidents, transitions, reports and corrective actions.
Every write calls ``governance.incidents.services``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import refusal_responses
from governance.incidents import selectors, services
from governance.incidents.api.serializers import (
    ActionWaiveSerializer,
    CorrectiveActionSerializer,
    IncidentDetailSerializer,
    IncidentReportRecordSerializer,
    IncidentSerializer,
    IncidentTransitionSerializer,
)
from governance.incidents.filtersets import IncidentFilterSet
from governance.incidents.models import CorrectiveAction, IncidentReport

REFUSALS = refusal_responses(
    invalid="Invalid input, or refused with field errors.",
    not_found="No such incident the caller may see.",
    conflict="The incident or report changed meanwhile.",
    detailed=True,
)

WRITE_FIELDS = (*services.INCIDENT_FIELDS, *services.RELATION_FIELDS)


@extend_schema(tags=["incidents"])
class IncidentViewSet(viewsets.ModelViewSet):
    """Incidents of initiatives the caller may see (others are 404)."""

    filterset_class = IncidentFilterSet

    def get_queryset(self):
        incidents = selectors.incident_list(user=self.request.user).prefetch_related(
            "model_versions", "business_units"
        )
        if self.action != "list":
            incidents = incidents.prefetch_related("reports__regime", "actions")
        return incidents.order_by("-became_aware_at", "-pk")

    def get_serializer_class(self):
        return IncidentSerializer if self.action == "list" else IncidentDetailSerializer

    def _respond(self, incident, success=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(
            IncidentDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=success,
        )

    def _data(self, serializer) -> dict:
        return {k: v for k, v in serializer.validated_data.items() if k in WRITE_FIELDS}

    def create(self, request, *args, **kwargs):
        serializer = IncidentSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        incident = services.incident_create(actor=request.user, data=self._data(serializer))
        return self._respond(incident, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        incident = self.get_object()
        serializer = IncidentSerializer(
            incident,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        services.incident_update(actor=request.user, incident=incident, data=self._data(serializer))
        return self._respond(incident)

    def destroy(self, request, *args, **kwargs):
        services.incident_delete(actor=request.user, incident=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=IncidentTransitionSerializer, responses={200: IncidentDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move along the workflow; triage computes the reports and their due times."""
        incident = self.get_object()
        payload = IncidentTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.incident_transition(
            actor=request.user,
            incident=incident,
            to_status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )
        return self._respond(incident)

    @extend_schema(
        request=IncidentReportRecordSerializer,
        responses={200: IncidentDetailSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def reports(self, request, pk=None):
        """Record that one of the incident's reports was sent (its clock stops)."""
        incident = self.get_object()
        payload = IncidentReportRecordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = get_object_or_404(
            IncidentReport, pk=payload.validated_data["report"], incident=incident
        )
        services.incident_report_record(
            actor=request.user,
            report=report,
            submitted_at=payload.validated_data["submitted_at"],
            submitted_to=payload.validated_data["submitted_to"],
            reference=payload.validated_data["reference"],
        )
        return self._respond(incident)

    @extend_schema(
        request=CorrectiveActionSerializer, responses={201: IncidentDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        """Add a corrective action."""
        incident = self.get_object()
        payload = CorrectiveActionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.action_add(actor=request.user, incident=incident, data=payload.validated_data)
        return self._respond(incident, status.HTTP_201_CREATED)

    @extend_schema(
        request=ActionWaiveSerializer, responses={200: IncidentDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"], url_path="waive-action")
    def waive_action(self, request, pk=None):
        """A risk officer waives an open corrective action with a reason."""
        incident = self.get_object()
        payload = ActionWaiveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        corrective = get_object_or_404(
            CorrectiveAction, pk=payload.validated_data["action"], incident=incident
        )
        services.action_waive(
            actor=request.user, action=corrective, reason=payload.validated_data["reason"]
        )
        return self._respond(incident)
