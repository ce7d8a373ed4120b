"""The comment body filter: plain text escaped, paragraphs and line breaks kept, and the
``@username`` mentions that notified someone linked to that person."""

from django import template
from django.utils.html import escape, format_html, linebreaks
from django.utils.safestring import mark_safe

from core.discussions.services import MENTION_PATTERN

register = template.Library()


def _mention_html(user):
    name = user.get_full_name() or user.get_username()
    if user.email:
        return format_html(
            '<a class="mention" href="mailto:{}" title="{}">@{}</a>',
            user.email,
            name,
            user.get_username(),
        )
    return format_html('<span class="mention" title="{}">@{}</span>', name, user.get_username())


@register.filter
def comment_html(comment):
    """``comment.body`` as safe HTML; reads the (prefetched) ``mentions``, no query."""
    mentioned = {user.get_username(): user for user in comment.mentions.all()}
    body = comment.body
    parts, last = [], 0
    for match in MENTION_PATTERN.finditer(body):
        parts.append(escape(body[last : match.start()]))
        user = mentioned.get(match.group(1))
        parts.append(_mention_html(user) if user else escape(match.group(0)))
        last = match.end()
    parts.append(escape(body[last:]))
    # Every part is escaped or built by format_html, so the joined text is safe.
    return mark_safe(linebreaks("".join(parts), autoescape=False))  # noqa: S308
