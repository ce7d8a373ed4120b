from django.db.models import F, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import refusal_responses
from governance.approvals import escalation
from governance.approvals import selectors as approval_selectors
from governance.approvals import services as approval_services
from governance.approvals.api.serializers import (
    ApprovalRequestDetailSerializer,
    ApprovalRequestSerializer,
    CommentSerializer,
    DecideSerializer,
    ReasonSerializer,
    SubmitSerializer,
)
from governance.approvals.filtersets import ApprovalRequestFilterSet
from governance.approvals.models import Decision, Escalation
from portfolio.initiatives.selectors import initiative_get

REFUSALS = refusal_responses(
    invalid="Invalid input, or refused with field errors.",
    not_found="No such request the caller may see.",
    conflict="Already decided, or the request changed meanwhile.",
    detailed=True,
)


def _responses(serializer, success=200):
    return {success: serializer, **REFUSALS}


@extend_schema(tags=["approvals"])
@extend_schema_view(
    create=extend_schema(
        request=SubmitSerializer,
        responses=_responses(ApprovalRequestDetailSerializer, 201),
        description="Submit an initiative for a gate. Refused (400) with every gate blocker "
        "when required controls fail; 409 when a request for the gate is already open.",
    ),
)
class ApprovalRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Approval requests on initiatives the caller may see, most urgent first. Every
    transition goes through ``governance.approvals.services``."""

    filterset_class = ApprovalRequestFilterSet

    def get_queryset(self):
        requests = approval_selectors.request_list(user=self.request.user).order_by(
            F("step_due_at").asc(nulls_last=True), "pk"
        )
        if self.action != "list":
            requests = requests.prefetch_related(
                Prefetch(
                    "decisions",
                    queryset=Decision.objects.select_related("approver", "on_behalf_of"),
                ),
                Prefetch("escalations", queryset=Escalation.objects.select_related("raised_by")),
            )
        return requests

    def get_serializer_class(self):
        return (
            ApprovalRequestSerializer if self.action == "list" else ApprovalRequestDetailSerializer
        )

    def _respond(self, approval, success=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=approval.pk)
        return Response(ApprovalRequestDetailSerializer(fresh).data, status=success)

    def create(self, request, *args, **kwargs):
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        initiative = initiative_get(user=request.user, pk=payload.validated_data["initiative"])
        approval = approval_services.request_submit(
            actor=request.user,
            initiative=initiative,
            gate=payload.validated_data["gate"],
            comment=payload.validated_data["comment"],
        )
        return self._respond(approval, status.HTTP_201_CREATED)

    @extend_schema(request=DecideSerializer, responses=_responses(ApprovalRequestDetailSerializer))
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve, reject or request changes on the current step (a comment is required to
        reject or request changes). Separation of duties: 403 for the submitter, the
        initiative's owner or lead, and anyone without the step's role; 409 for a second
        decision by the same person or on a request decided meanwhile."""
        approval = self.get_object()
        payload = DecideSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        approval_services.request_decide(
            actor=request.user,
            request=approval,
            outcome=payload.validated_data["outcome"],
            comment=payload.validated_data["comment"],
        )
        return self._respond(approval)

    @extend_schema(request=ReasonSerializer, responses=_responses(ApprovalRequestDetailSerializer))
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The submitter or the initiative's owners withdraw an open request."""
        approval = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        approval_services.request_withdraw(
            actor=request.user,
            request=approval,
            reason=payload.validated_data["reason"],
        )
        return self._respond(approval)

    @extend_schema(request=CommentSerializer, responses=_responses(ApprovalRequestDetailSerializer))
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        """After changes were requested: a new round from the first step, under the same
        policy version."""
        approval = self.get_object()
        payload = CommentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        approval_services.request_resubmit(
            actor=request.user,
            request=approval,
            comment=payload.validated_data["comment"],
        )
        return self._respond(approval)

    @extend_schema(request=ReasonSerializer, responses=_responses(ApprovalRequestDetailSerializer))
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """A reviewer who approved a step that another approver rejected (or sent back) asks
        the next level to decide it afresh."""
        approval = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        escalation.request_escalate_disagreement(
            actor=request.user,
            request=approval,
            reason=payload.validated_data["reason"],
        )
        return self._respond(approval)
