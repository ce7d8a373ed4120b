from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Organisation and audit"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from core import customfields  # noqa: F401 — installs the custom-field checks
        from core.logins import record_lockout
        from core.mfa import remember_at_login
        from core.sessions import session_ended, session_started

        user_locked_out.connect(record_lockout, dispatch_uid="keel-login-locked-out")
        user_logged_in.connect(session_started, dispatch_uid="keel-session-started")
        user_logged_out.connect(session_ended, dispatch_uid="keel-session-ended")
        user_logged_in.connect(remember_at_login, dispatch_uid="keel-mfa-at-login")
