"""Domain exceptions shared by every app's services."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The object changed meanwhile, so this transition no longer applies (another approver
    decided first, a repeated form, a pair already merged). The web UI shows it like any
    validation error; the API answers 409 with the message (``core.api.exceptions``)."""
