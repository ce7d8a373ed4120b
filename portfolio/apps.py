from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio"

    def ready(self):
        from portfolio.duplicates.services import schedule_duplicate_detection
        from portfolio.initiatives.services import register_change_hook

        register_change_hook(schedule_duplicate_detection)

        from portfolio import navigation

        navigation.register()

        from core.selectors import register_audit_subject
        from portfolio.initiatives.models import Deployment, Initiative

        # A BU lead reads the audit events about their units' objects (core.selectors).
        register_audit_subject(Initiative, "business_unit")
        register_audit_subject(Deployment, "initiative__business_unit")

        from core.discussions.selectors import register_discussion_subject
        from portfolio.initiatives.selectors import initiative_list

        # Whoever sees an initiative reads and joins its discussion (core.discussions).
        register_discussion_subject(Initiative, initiative_list)

        from core.customfields import register_entity
        from portfolio.initiatives.choices import Stage

        register_entity(
            "initiative",
            Initiative,
            label="Initiative",
            stages=[(s, Stage(s).label) for s in ("proposed", "pilot", "production", "scaled")],
        )
