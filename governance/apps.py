from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self):
        """Plug governance into the lower apps' registries (they never import governance)."""
        from governance.approvals.services import gpu_request_submit
        from governance.risk.controls import (
            schedule_controls_evaluation,
            schedule_vendor_controls_evaluation,
        )
        from governance.risk.guards import refuse_tier_4_beyond_proposed
        from governance.risk.indicators import register_governance_indicators
        from governance.risk.selectors import current_tiers
        from inventory.capacity.services import register_gate_submitter
        from inventory.registry.services import register_diligence_hook, register_tier_source
        from portfolio.initiatives.services import register_change_hook, register_stage_guard

        register_stage_guard(refuse_tier_4_beyond_proposed)
        register_change_hook(schedule_controls_evaluation)
        register_governance_indicators()
        register_tier_source(current_tiers)
        register_diligence_hook(schedule_vendor_controls_evaluation)
        register_gate_submitter(gpu_request_submit)

        from governance.approvals import content

        content.register()

        from governance.incidents.services import reassessment_control
        from governance.risk.controls import register_control_evaluator

        register_control_evaluator("INC-01", reassessment_control)

        from core.customfields import register_entity
        from governance.incidents.models import Incident

        register_entity("incident", Incident, label="Incident")

        from governance import navigation

        navigation.register()

        from core.selectors import register_audit_subject
        from governance.approvals.models import ApprovalRequest
        from governance.incidents.models import Incident
        from governance.risk.models import ControlResult, RiskAssessment

        # A BU lead reads the audit events about their units' objects (core.selectors).
        for model in (ApprovalRequest, RiskAssessment, ControlResult):
            register_audit_subject(model, "initiative__business_unit")
        register_audit_subject(Incident, "initiatives__business_unit")

        from core.discussions.selectors import register_discussion_subject
        from governance.approvals.selectors import request_list
        from governance.incidents.selectors import incident_list

        # Whoever sees a request or an incident reads and joins its discussion
        # (core.discussions).
        register_discussion_subject(ApprovalRequest, request_list)
        register_discussion_subject(Incident, incident_list)
