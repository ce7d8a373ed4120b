from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self):
        from inventory.model_services import register_tier_source
        from portfolio.services import register_change_hook, register_stage_guard

        from .guards import refuse_tier_4_beyond_proposed
        from .indicators import register_governance_indicators
        from .services import current_tiers, schedule_controls_evaluation

        register_stage_guard(refuse_tier_4_beyond_proposed)
        register_change_hook(schedule_controls_evaluation)
        register_governance_indicators()
        register_tier_source(current_tiers)
