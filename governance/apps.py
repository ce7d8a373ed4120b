from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self):
        from portfolio.services import register_stage_guard

        from .guards import refuse_tier_4_beyond_proposed

        register_stage_guard(refuse_tier_4_beyond_proposed)
