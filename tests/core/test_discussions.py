"""Discussions (issue 19, item 10): comments with @mentions that notify, and attachments, on
initiatives, models and approval requests — scoped by the subject's own selector, audited,
and rendered in a constant number of queries."""

import datetime
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config.celery import app as celery_app
from core.choices import NotificationKind, Role
from core.discussions import services
from core.models import Attachment, AuditEvent, Comment, Notification, NotificationPreference
from governance.approvals import services as engine
from tests.factories import AIModelFactory, InitiativeFactory, member
from tests.governance.helpers import TIER_2, assess

pytestmark = pytest.mark.django_db

# The smallest well-formed PDF header line (ISO 32000-1 §7.5.2: a file begins "%PDF-1.n").
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.KEEL_PRIVATE_STORAGE = tmp_path / "private"
    return settings.KEEL_PRIVATE_STORAGE


@pytest.fixture
def celery_eager():
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.fixture
def initiative(unit_a, member_a):
    return InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)


@pytest.fixture
def colleague(unit_a):
    return member(Role.BU_MEMBER, unit_a, username="colin", email="colin@example.com")


def url_of(subject):
    key = f"{subject._meta.app_label}.{subject._meta.model_name}"
    return reverse("core:discussion", args=[key, subject.pk])


def post(client, subject, body="", upload=None, htmx=True):
    data = {"body": body}
    if upload is not None:
        data["file"] = upload
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url_of(subject), data, headers=headers)


def files_in(root):
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- Scoping -------------------------------------------------------------------------------


def test_another_units_member_gets_404_on_read_post_edit_delete_and_download(
    client, initiative, member_a, member_b, private_storage
):
    comment, _ = services.comment_create(
        actor=member_a,
        subject=initiative,
        body="Pilot data is ready.",
        upload=SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf"),
    )
    attachment = comment.attachments.get()
    events = AuditEvent.objects.count()
    client.force_login(member_b)
    assert client.get(url_of(initiative), headers={"HX-Request": "true"}).status_code == 404
    assert post(client, initiative, "Let me in").status_code == 404
    for name in ("core:comment_edit", "core:comment_delete"):
        assert client.post(reverse(name, args=[comment.pk]), {"body": "x"}).status_code == 404
    download = reverse("core:attachment_download", args=[attachment.pk])
    assert client.get(download).status_code == 404
    assert client.post(reverse("core:attachment_delete", args=[attachment.pk])).status_code == 404
    assert Comment.objects.count() == 1 and AuditEvent.objects.count() == events
    comment.refresh_from_db()
    assert comment.body == "Pilot data is ready." and comment.deleted_at is None
    # An unknown kind of subject is a 404 too, never an error.
    bad = reverse("core:discussion", args=["core.user", member_a.pk])
    assert client.get(bad).status_code == 404


def test_a_colleague_reads_posts_and_downloads_with_content_disposition(
    client, initiative, member_a, colleague
):
    comment, _ = services.comment_create(
        actor=member_a,
        subject=initiative,
        body="Plan attached",
        upload=SimpleUploadedFile("Pilot plan.pdf", PDF, content_type="application/pdf"),
    )
    attachment = comment.attachments.get()
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (attachment.original_name, attachment.size) == ("Pilot plan.pdf", len(PDF))
    client.force_login(colleague)
    page = client.get(reverse("portfolio:initiative_detail", args=[initiative.pk]))
    html = page.content.decode()
    assert 'id="discussion"' in html and "Plan attached" in html
    response = client.get(reverse("core:attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Pilot%20plan.pdf" in response["Content-Disposition"] or (
        "Pilot plan.pdf" in response["Content-Disposition"]
    )
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    # The stored file has no public URL: only the view serves it.
    assert attachment.file.storage.base_url is None


def test_model_and_approval_request_pages_have_the_discussion(
    client, unit_a, member_a, member_b, platform_engineer
):
    model = AIModelFactory(business_unit=unit_a)
    initiative = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, stage="proposed"
    )
    assess(initiative, member_a, TIER_2)
    approval = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    client.force_login(member_a)
    for subject, page in (
        (model, reverse("inventory:model_detail", args=[model.pk])),
        (approval, reverse("governance:request_detail", args=[approval.pk])),
    ):
        assert 'id="discussion-heading"' in client.get(page).content.decode()
        assert post(client, subject, f"About {subject}").status_code == 200
        assert Comment.objects.filter(subject_id=subject.pk, body=f"About {subject}").exists()
    client.force_login(member_b)
    assert post(client, model, "Outsider").status_code == 404
    assert post(client, approval, "Outsider").status_code == 404


# --- Mentions ------------------------------------------------------------------------------


def test_a_mention_notifies_once_in_app_and_by_email_with_a_link(
    client,
    settings,
    initiative,
    member_a,
    colleague,
    celery_eager,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    client.force_login(member_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, initiative, "@colin please review.\nThanks @colin, and @alice.")
    assert response.status_code == 200
    notifications = Notification.objects.filter(recipient=colleague)
    assert notifications.count() == 1  # twice named, notified once; the author not at all
    assert not Notification.objects.filter(recipient=member_a).exists()
    notification = notifications.get()
    comment = Comment.objects.get()
    assert notification.kind == NotificationKind.MENTION
    assert notification.url == f"/initiatives/{initiative.pk}/#comment-{comment.pk}"
    assert len(mailoutbox) == 1
    assert f"{settings.KEEL_PUBLIC_URL}/initiatives/{initiative.pk}/#comment-" in mailoutbox[0].body
    html = response.content.decode()
    assert '<a class="mention" href="mailto:colin@example.com"' in html
    assert "Notified: @colin" in html
    # Editing the comment notifies nobody again who was already notified.
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_edit(actor=member_a, comment=comment, body="@colin updated, see plan")
    assert notifications.count() == 1 and len(mailoutbox) == 1


def test_email_follows_the_preference_but_the_in_app_notification_stays(
    initiative, member_a, colleague, celery_eager, mailoutbox, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=colleague, kind=NotificationKind.MENTION, email=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(actor=member_a, subject=initiative, body="cc @colin")
    assert Notification.objects.filter(recipient=colleague).count() == 1
    assert mailoutbox == []


def test_a_mention_of_someone_who_cannot_see_the_subject_does_not_notify_and_says_so(
    client, initiative, member_a, member_b, django_capture_on_commit_callbacks
):
    client.force_login(member_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, initiative, "@bob and @nobody, have a look")
    assert not Notification.objects.filter(recipient=member_b).exists()
    html = response.content.decode()
    assert "Not notified: @bob, @nobody" in html
    assert "cannot see this initiative" in html
    comment = Comment.objects.get()
    assert list(comment.mentions.all()) == []
    assert 'class="mention"' not in html  # unresolved names stay plain text


def test_mention_pattern_ignores_email_addresses_and_trailing_punctuation():
    assert services.mentioned_usernames("mail bob@example.com, ask @alice. And @a.b-c!") == [
        "alice",
        "a.b-c",
    ]


def test_body_is_escaped_with_line_breaks(client, initiative, member_a):
    client.force_login(member_a)
    html = post(client, initiative, "<script>alert(1)</script>\nsecond line").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>second line" in html


# --- Attachments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "Files of type .exe are not accepted"),
        ("report.pdf", b"<html>not a pdf</html>", "does not look like a .pdf file"),
        ("notes.txt", b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_a_bad_file_is_refused_on_the_field_and_nothing_is_written(
    client, initiative, member_a, colleague, private_storage, name, content, message
):
    client.force_login(member_a)
    events = AuditEvent.objects.count()
    response = post(client, initiative, "@colin see file", SimpleUploadedFile(name, content))
    assert response.status_code == 200  # htmx swaps the form back with its error
    html = response.content.decode()
    assert message in html and 'id="id_file_error"' in html
    assert not Comment.objects.exists() and not Attachment.objects.exists()
    assert AuditEvent.objects.count() == events
    assert not Notification.objects.exists()
    assert files_in(private_storage) == []


def test_text_read_in_chunks_is_checked_as_utf8_across_chunk_boundaries(tmp_path):
    """A large upload spooled to disk is read in 64 KiB chunks: a character split between
    two chunks is still UTF-8, and a bad byte anywhere is refused."""
    from django.core.files import File

    boundary = File.DEFAULT_CHUNK_SIZE
    good = b"a" * (boundary - 1) + "é".encode() + b" tail\n"  # "é" spans the boundary
    path = tmp_path / "notes.txt"
    path.write_bytes(good)
    with path.open("rb") as handle:
        media_type, sha256, size = services.validate_attachment(File(handle, name="notes.txt"))
    assert (media_type, sha256, size) == ("text/plain", hashlib.sha256(good).hexdigest(), len(good))

    path.write_bytes(good + b"\xff")
    with path.open("rb") as handle, pytest.raises(ValidationError) as refused:
        services.validate_attachment(File(handle, name="notes.txt"))
    assert refused.value.message_dict == {"file": ["A .txt file must be UTF-8 encoded text."]}


def test_a_file_over_the_size_limit_is_refused(client, settings, initiative, member_a):
    settings.KEEL_ATTACHMENT_MAX_BYTES = 20
    client.force_login(member_a)
    response = post(client, initiative, "", SimpleUploadedFile("big.pdf", PDF), htmx=False)
    assert response.status_code == 400
    assert "the limit is 20" in response.content.decode()
    assert not Comment.objects.exists()


def test_an_empty_comment_is_refused(client, initiative, member_a):
    client.force_login(member_a)
    response = post(client, initiative, "   ")
    assert "Write a comment or attach a file." in response.content.decode()
    assert not Comment.objects.exists()


# --- Edit, delete and audit ----------------------------------------------------------------


def test_create_edit_delete_are_audited_against_the_subject(
    client, initiative, member_a, colleague
):
    client.force_login(member_a)
    post(client, initiative, "First @colin", SimpleUploadedFile("a.csv", b"x,y\n1,2\n"))
    comment = Comment.objects.get()
    created = AuditEvent.objects.get(action="comment.created")
    assert (created.object_type, created.object_id) == ("portfolio.initiative", str(initiative.pk))
    assert f'"mentioned_ids":[{colleague.pk}]' in created.payload
    assert hashlib.sha256(b"x,y\n1,2\n").hexdigest() in created.payload

    response = client.post(
        reverse("core:comment_edit", args=[comment.pk]),
        {f"comment-{comment.pk}-body": "First, corrected"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.body == "First, corrected" and comment.edited_at is not None
    edited = AuditEvent.objects.get(action="comment.edited")
    assert '"body":"First @colin"' in edited.payload

    client.post(reverse("core:comment_delete", args=[comment.pk]), headers={"HX-Request": "true"})
    comment.refresh_from_db()
    assert comment.is_deleted
    assert AuditEvent.objects.filter(action="comment.deleted").count() == 1
    attachment = Attachment.objects.get()
    assert attachment.deleted_at is not None
    assert client.get(reverse("core:attachment_download", args=[attachment.pk])).status_code == 404
    # The subject's History section lists the discussion's events.
    page = client.get(reverse("portfolio:initiative_detail", args=[initiative.pk])).content
    assert b"comment.deleted" in page and b"Comment deleted." in page
    assert b"First, corrected" not in page


def test_only_the_author_edits_and_only_within_the_window(
    settings, initiative, member_a, colleague, coe_admin
):
    comment, _ = services.comment_create(actor=member_a, subject=initiative, body="Mine")
    with pytest.raises(PermissionDenied):
        services.comment_edit(actor=colleague, comment=comment, body="Hijacked")
    with pytest.raises(PermissionDenied):
        services.comment_delete(actor=colleague, comment=comment)
    Comment.objects.filter(pk=comment.pk).update(
        created_at=comment.created_at
        - datetime.timedelta(minutes=settings.KEEL_COMMENT_EDIT_MINUTES + 1)
    )
    comment.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.comment_edit(actor=member_a, comment=comment, body="Too late")
    assert not AuditEvent.objects.filter(action__in=["comment.edited", "comment.deleted"]).exists()
    # A CoE admin moderates at any time.
    services.comment_delete(actor=coe_admin, comment=comment, reason="Off topic")
    assert AuditEvent.objects.get(action="comment.deleted").reason == "Off topic"


def test_a_non_htmx_post_redirects_to_the_comment(client, initiative, member_a):
    client.force_login(member_a)
    response = post(client, initiative, "Plain form", htmx=False)
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/initiatives/{initiative.pk}/#comment-{comment.pk}"
    page = client.get(url_of(initiative))
    assert page.status_code == 200 and b"<h1>Discussion" in page.content
    assert "HX-Request" in page["Vary"]


# --- Query count ---------------------------------------------------------------------------


def _discussion_queries(client, django_assert_max_num_queries, subject, bound):
    with django_assert_max_num_queries(bound):
        response = client.get(url_of(subject), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("count", [3, 15])
def test_the_discussion_section_queries_do_not_grow_with_comments(
    client, initiative, member_a, colleague, django_assert_max_num_queries, count
):
    for number in range(count):
        services.comment_create(
            actor=member_a,
            subject=initiative,
            body=f"Comment {number} for @colin",
            upload=SimpleUploadedFile(f"n{number}.txt", b"note"),
        )
    client.force_login(member_a)
    # Session, user, memberships, the initiative through its selector, comments, their
    # mentions, their attachments: 7 for 3 comments as for 15.
    response = _discussion_queries(client, django_assert_max_num_queries, initiative, 7)
    assert response.content.decode().count('class="comment"') == count
