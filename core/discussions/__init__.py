"""Discussions: comments (with @mentions that notify) and attachments on the subjects higher
apps register (initiatives, models, approval requests)."""
