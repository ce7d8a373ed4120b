"""Input shape of the discussion forms; the services validate and save."""

from django import forms

from core.discussions.services import ALLOWED_ATTACHMENT_TYPES
from core.models import COMMENT_MAX_LENGTH


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Plain text. Mention someone with @username to notify them.",
    )
    file = forms.FileField(
        label="Attach a file",
        required=False,
        help_text="Optional. " + ", ".join(sorted(ALLOWED_ATTACHMENT_TYPES)) + ".",
    )

    def __init__(self, *args, prefix_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(sorted(ALLOWED_ATTACHMENT_TYPES))
        if prefix_id:
            self.auto_id = f"id_{prefix_id}_%s"


class CommentEditForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
