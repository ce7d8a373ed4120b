"""A BU member posts a comment with @mentions on an initiative in a real browser: the
Discussion section swaps in place (htmx), the colleague who can see the initiative is
notified and linked, the one from another unit is not and the form says so."""

import pytest
from playwright.sync_api import expect

from core.choices import NotificationKind, Role
from core.models import AuditEvent, Comment, Notification
from tests.factories import PASSWORD, BusinessUnitFactory, InitiativeFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_comments_with_a_mention_on_an_initiative(live_server, page, console_errors):
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    other_unit = BusinessUnitFactory(name="Insurance", code="INSURE")
    alice = member(Role.BU_MEMBER, unit, username="alice", first_name="Alice", last_name="Ng")
    colin = member(Role.BU_MEMBER, unit, username="colin", email="colin@example.com")
    bob = member(Role.BU_MEMBER, other_unit, username="bob")
    initiative = InitiativeFactory(
        title="Fraud scoring", business_unit=unit, accountable_owner=alice
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/initiatives/{initiative.pk}/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/initiatives/{initiative.pk}/")
    discussion = page.locator("#discussion")
    expect(discussion.get_by_role("heading", name="Discussion")).to_be_visible()
    expect(discussion).to_contain_text("No comments yet.")
    page.evaluate("window.keelSamePage = true")

    # Keyboard only: type in the labelled field, Tab past the file input to the button.
    comment_field = discussion.get_by_label("Comment")
    comment_field.fill("@colin can you check the thresholds?\n@bob FYI")
    discussion.get_by_label("Attach a file").focus()
    page.keyboard.press("Tab")
    expect(discussion.get_by_role("button", name="Post comment")).to_be_focused()
    with page.expect_response(lambda r: "/discussions/portfolio.initiative/" in r.url) as posted:
        page.keyboard.press("Enter")
    assert posted.value.ok and "<html" not in posted.value.text()

    comment = discussion.locator("li.comment")
    expect(comment).to_have_count(1)
    expect(comment).to_contain_text("can you check the thresholds?")
    expect(comment.get_by_role("link", name="@colin")).to_have_attribute(
        "href", "mailto:colin@example.com"
    )
    expect(comment.get_by_role("link", name="@bob")).to_have_count(0)
    expect(discussion.get_by_role("status")).to_contain_text("Notified: @colin")
    expect(discussion.get_by_role("status")).to_contain_text(
        "Not notified: @bob — no such active person, or they cannot see this initiative"
    )
    expect(comment_field).to_have_value("")
    assert page.evaluate("window.keelSamePage") is True  # swapped in place, no reload

    assert Comment.objects.get().author == alice
    assert list(Notification.objects.values_list("recipient", "kind")) == [
        (colin.pk, NotificationKind.MENTION)
    ]
    assert not Notification.objects.filter(recipient=bob).exists()
    assert AuditEvent.objects.filter(
        action="comment.created", object_id=str(initiative.pk)
    ).exists()
    assert console_errors == []
