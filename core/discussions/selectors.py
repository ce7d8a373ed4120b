"""Reads of discussions, scoped through the subject's own selector.

Core never imports the apps whose objects are discussed: each registers its subject model
with the selector that scopes it (``register_discussion_subject`` in ``AppConfig.ready()``).
Whoever may see the subject reads and joins its discussion; anyone else gets a 404.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.audit import object_type_of
from core.models import Attachment, Comment

# Subject model -> ``visible(*, user)``: the QuerySet of its rows ``user`` may see.
DISCUSSION_SUBJECTS: dict = {}


def register_discussion_subject(model, visible) -> None:
    """Give ``model`` rows a discussion, readable by whoever ``visible(user=…)`` lets see them
    (the model's own scoped list selector, e.g. ``initiative_list``)."""
    DISCUSSION_SUBJECTS[model] = visible


def _model_of(key: str):
    for model in DISCUSSION_SUBJECTS:
        if object_type_of(model) == key:
            return model
    raise Http404("Nothing of this kind has a discussion.")


def discussion_subject_get(*, user, key: str, pk):
    """The subject of kind ``key`` (``portfolio.initiative``) with id ``pk`` that ``user`` may
    see, or 404 — the same whether it does not exist or is out of scope."""
    model = _model_of(key)
    return get_object_or_404(DISCUSSION_SUBJECTS[model](user=user).order_by(), pk=pk)


def can_see_subject(user, subject) -> bool:
    """Whether ``user`` (any person, e.g. someone mentioned) may see ``subject``."""
    if user is None or not user.is_active:
        return False
    visible = DISCUSSION_SUBJECTS.get(type(subject))
    if visible is None:
        return False
    return visible(user=user).order_by().filter(pk=subject.pk).exists()


def _of_subject(queryset, subject):
    return queryset.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
    )


def comment_list(*, subject) -> QuerySet[Comment]:
    """The comments of a subject already resolved through its scoped selector, oldest first,
    with their authors, mentioned people and (live) attachments: three queries however many
    comments there are."""
    return (
        _of_subject(Comment.objects.all(), subject)
        .select_related("author")
        .prefetch_related(
            "mentions",
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(deleted_at__isnull=True),
                to_attr="live_attachments",
            ),
        )
    )


def comment_get(*, user, pk) -> Comment:
    """A comment whose subject ``user`` may see, or 404."""
    comment = get_object_or_404(Comment.objects.select_related("author", "subject_type"), pk=pk)
    subject = comment.subject
    if subject is None or not can_see_subject(user, subject):
        raise Http404("No such comment.")
    return comment


def attachment_get(*, user, pk) -> Attachment:
    """A live attachment whose subject ``user`` may see, or 404."""
    attachment = get_object_or_404(
        Attachment.objects.select_related("subject_type"), pk=pk, deleted_at__isnull=True
    )
    subject = attachment.subject
    if subject is None or not can_see_subject(user, subject):
        raise Http404("No such attachment.")
    return attachment
