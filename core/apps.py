from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Organisation and audit"

    def ready(self):
        from axes.signals import user_locked_out

        from core.logins import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="keel-login-locked-out")
