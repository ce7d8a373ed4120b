"""Writes of discussions: post, edit and delete comments, attach and remove files, notify
the people mentioned. Each is audited in its own transaction, against the subject, so the
subject's History and a BU lead's audit-log scope show the discussion's changes."""

import codecs
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from core.audit import object_type_of, record_event
from core.choices import NotificationKind
from core.discussions.permissions import can_delete_comment, can_edit_comment
from core.discussions.selectors import can_see_subject
from core.models import Attachment, Comment
from core.services import notification_send

# ``@username``: Django's username characters (letters, digits, ``@.+-_``), not ending in a
# dot or ``@`` (so "thanks @alice." mentions alice), and not preceded by a username
# character (so an email address "bob@example.com" mentions nobody).
MENTION_PATTERN = re.compile(r"(?<![\w.@+-])@([\w+-](?:[\w.@+-]*[\w+-])?)")

# Extension -> (media type stored and sent, leading bytes the content must start with; None
# for text, which must decode as UTF-8). The signatures are the formats' own magic numbers:
# PDF "%PDF" (ISO 32000-1 §7.5.2), PNG (RFC 2083 §3.1), JPEG SOI+APPn (ITU T.81 Annex B),
# GIF "GIF8" (GIF89a spec §17), OOXML is a ZIP container "PK\x03\x04" (ECMA-376 Part 2).
ALLOWED_ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", b"%PDF"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".gif": ("image/gif", b"GIF8"),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        b"PK\x03\x04",
    ),
    ".txt": ("text/plain", None),
    ".md": ("text/markdown", None),
    ".csv": ("text/csv", None),
}
FILE_FIELD = "file"


@dataclass
class MentionResult:
    """Who a comment notified, and the names it did not (unknown, inactive, or unable to see
    the subject — one list, so the form never tells which people exist)."""

    notified: list = field(default_factory=list)
    not_notified: list[str] = field(default_factory=list)


def mentioned_usernames(body: str) -> list[str]:
    """The distinct ``@username`` names in ``body``, in order of first appearance."""
    return list(dict.fromkeys(MENTION_PATTERN.findall(body or "")))


def _resolve_mentions(*, body: str, subject, author, already=frozenset()) -> MentionResult:
    """The active people named in ``body`` who may see ``subject`` (the author and
    ``already`` notified ids excluded from notification but not reported as refused)."""
    names = mentioned_usernames(body)
    result = MentionResult()
    if not names:
        return result
    users = {
        user.get_username(): user
        for user in get_user_model().objects.filter(username__in=names, is_active=True)
    }
    for name in names:
        user = users.get(name)
        if user is None or not can_see_subject(user, subject):
            result.not_notified.append(name)
        elif user.pk != author.pk and user.pk not in already:
            result.notified.append(user)
    return result


def _notify_mentioned(*, users, comment, subject, author) -> None:
    """One in-app notification per person (emailed after commit per their preference),
    linking to the subject's discussion."""
    who = author.get_full_name() or author.get_username()
    url = f"{subject.get_absolute_url()}#comment-{comment.pk}"
    excerpt = comment.body if len(comment.body) <= 500 else comment.body[:497] + "…"
    for user in users:
        notification_send(
            recipient=user,
            subject=f"{who} mentioned you on {subject}",
            body=f"{who} wrote on {subject}:\n\n{excerpt}",
            url=url,
            kind=NotificationKind.MENTION,
        )


def validate_attachment(upload) -> tuple[str, str, int]:
    """Refuse a file over ``KEEL_ATTACHMENT_MAX_BYTES`` or outside the allow-list (by
    extension, then by content). Returns (media type, SHA-256 hex, size); reads the upload
    once and rewinds it. Errors name the ``file`` field."""
    limit = settings.KEEL_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                FILE_FIELD: f"The file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}."
            }
        )
    if upload.size == 0:
        raise ValidationError({FILE_FIELD: "The file is empty."})
    extension = Path(upload.name).suffix.lower()
    if extension not in ALLOWED_ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(ALLOWED_ATTACHMENT_TYPES))
        raise ValidationError(
            {FILE_FIELD: f"Files of type {extension or '(none)'} are not accepted; use {allowed}."}
        )
    media_type, signature = ALLOWED_ATTACHMENT_TYPES[extension]
    upload.seek(0)
    head = upload.read(2048)
    if signature is not None and not head.startswith(signature):
        raise ValidationError(
            {FILE_FIELD: f"The file's content does not look like a {extension} file."}
        )
    digest = hashlib.sha256()
    # Text must be UTF-8: decoded chunk by chunk as it is hashed, so it is read only once.
    text = codecs.getincrementaldecoder("utf-8")() if signature is None else None
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            digest.update(chunk)
            if text is not None:
                text.decode(chunk)
        if text is not None:
            text.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(
            {FILE_FIELD: f"A {extension} file must be UTF-8 encoded text."}
        ) from None
    upload.seek(0)
    return media_type, digest.hexdigest(), upload.size


def attachment_content_type(attachment: Attachment) -> str:
    return (
        attachment.media_type
        or mimetypes.guess_type(attachment.original_name)[0]
        or "application/octet-stream"
    )


def _subject_ref(subject) -> dict:
    return {"subject_type": object_type_of(subject)}


def _require_sight(actor, subject) -> None:
    if not can_see_subject(actor, subject):
        raise PermissionDenied("You cannot take part in this discussion.")


def _original_name(upload) -> str:
    # The browser's name, without any folder part, for the download's filename only.
    return Path(upload.name).name[:255] or "attachment"


def comment_create(*, actor, subject, body: str, upload=None) -> tuple[Comment, MentionResult]:
    """Post a comment (and, with ``upload``, its attachment) on ``subject``; notify the people
    it mentions who may see the subject. A comment needs words or a file. Nothing is written
    when anything is refused."""
    _require_sight(actor, subject)
    body = (body or "").strip()
    if not body and upload is None:
        raise ValidationError({"body": "Write a comment or attach a file."})
    comment = Comment(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        author=actor,
        body=body,
    )
    comment.full_clean()
    checked = validate_attachment(upload) if upload is not None else None
    mentions = _resolve_mentions(body=body, subject=subject, author=actor)
    stored = None
    try:
        with transaction.atomic():
            comment.save()
            comment.mentions.set(mentions.notified)
            attachment = None
            if checked is not None:
                attachment = _attachment_save(
                    actor=actor, subject=subject, comment=comment, upload=upload, checked=checked
                )
                stored = attachment.file.name
            record_event(
                actor=actor,
                action="comment.created",
                target=subject,
                after={
                    **_subject_ref(subject),
                    "comment_id": comment.pk,
                    "body": body,
                    "mentioned_ids": sorted(user.pk for user in mentions.notified),
                    **(_attachment_payload(attachment) if attachment else {}),
                },
            )
            _notify_mentioned(
                users=mentions.notified, comment=comment, subject=subject, author=actor
            )
    except BaseException:
        _forget_file(stored)
        raise
    return comment, mentions


def _attachment_save(*, actor, subject, comment, upload, checked) -> Attachment:
    media_type, sha256, size = checked
    attachment = Attachment(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        comment=comment,
        original_name=_original_name(upload),
        media_type=media_type,
        size=size,
        sha256=sha256,
        uploaded_by=actor,
    )
    attachment.file.save("file", upload, save=False)
    attachment.save()
    return attachment


def _attachment_payload(attachment: Attachment) -> dict:
    return {
        "attachment_id": attachment.pk,
        "original_name": attachment.original_name,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def _forget_file(name) -> None:
    """Remove a file written by a transaction that then rolled back."""
    if name:
        Attachment._meta.get_field("file").storage.delete(name)


def comment_edit(*, actor, comment: Comment, body: str) -> tuple[Comment, MentionResult]:
    """Change the author's own recent comment; people newly mentioned are notified (those
    already notified by it are not notified again)."""
    subject = comment.subject
    _require_sight(actor, subject)
    body = (body or "").strip()
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if not can_edit_comment(actor, locked):
            raise PermissionDenied(
                "Only the author may edit a comment, within "
                f"{settings.KEEL_COMMENT_EDIT_MINUTES} minutes of posting."
            )
        if not body and not locked.attachments.filter(deleted_at__isnull=True).exists():
            raise ValidationError({"body": "A comment without a file needs words."})
        before = locked.body
        locked.body = body
        locked.full_clean()
        already = set(locked.mentions.values_list("pk", flat=True))
        mentions = _resolve_mentions(body=body, subject=subject, author=actor, already=already)
        if before == body:
            return locked, mentions
        locked.edited_at = timezone.now()
        locked.save(update_fields=["body", "edited_at"])
        locked.mentions.add(*mentions.notified)
        record_event(
            actor=actor,
            action="comment.edited",
            target=subject,
            before={"comment_id": locked.pk, "body": before},
            after={
                **_subject_ref(subject),
                "comment_id": locked.pk,
                "body": body,
                "mentioned_ids": sorted(user.pk for user in mentions.notified),
            },
        )
        _notify_mentioned(users=mentions.notified, comment=locked, subject=subject, author=actor)
    return locked, mentions


def comment_delete(*, actor, comment: Comment, reason: str = "") -> Comment:
    """Soft-delete a comment and its attachments (rows kept, text and files no longer shown;
    the audit event keeps what it said)."""
    subject = comment.subject
    _require_sight(actor, subject)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if not can_delete_comment(actor, locked):
            raise PermissionDenied(
                "Only the author (within "
                f"{settings.KEEL_COMMENT_EDIT_MINUTES} minutes) or a CoE admin may delete it."
            )
        now = timezone.now()
        attachment_ids = list(
            locked.attachments.filter(deleted_at__isnull=True).values_list("pk", flat=True)
        )
        Attachment.objects.filter(pk__in=attachment_ids).update(deleted_at=now)
        locked.deleted_at = now
        locked.save(update_fields=["deleted_at"])
        record_event(
            actor=actor,
            action="comment.deleted",
            target=subject,
            before={"comment_id": locked.pk, "body": locked.body},
            after={
                **_subject_ref(subject),
                "comment_id": locked.pk,
                "deleted_attachment_ids": attachment_ids,
            },
            reason=reason,
        )
    return locked


def attachment_delete(*, actor, attachment: Attachment) -> Attachment:
    """Soft-delete one attachment; allowed to whoever may delete its comment."""
    subject = attachment.subject
    _require_sight(actor, subject)
    with transaction.atomic():
        locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
        comment = locked.comment
        if locked.deleted_at is not None or comment is None:
            raise PermissionDenied("This attachment cannot be removed.")
        if not can_delete_comment(actor, comment):
            raise PermissionDenied("Only the author or a CoE admin may remove this file.")
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at"])
        record_event(
            actor=actor,
            action="attachment.deleted",
            target=subject,
            before=_attachment_payload(locked),
            after={**_subject_ref(subject), "comment_id": comment.pk},
        )
    return locked
