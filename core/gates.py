"""What the lower apps know of a governance gate without importing governance: how an
approval request names the object it is about, and whether a request handed to a transition
service (``via_gate``) really approves that transition. Duck-typed on the request's fields."""


def subject_of(instance) -> tuple[str, str]:
    """(subject_type, subject_id) naming ``instance`` on an approval request."""
    return instance._meta.label_lower, str(instance.pk)


def is_approved_request(
    via_gate, *, gate: str | None, subject: tuple[str, str] = ("", ""), initiative_id=None
) -> bool:
    """Whether ``via_gate`` is an approved request for ``gate`` (any gate when None) about
    ``subject`` (the initiative itself when empty) and, when ``initiative_id`` is given, of
    that initiative."""
    return (
        via_gate is not None
        and getattr(via_gate, "status", None) == "approved"
        and (initiative_id is None or getattr(via_gate, "initiative_id", None) == initiative_id)
        and (gate is None or getattr(via_gate, "gate", None) == gate)
        and (getattr(via_gate, "subject_type", None), getattr(via_gate, "subject_id", None))
        == subject
    )
