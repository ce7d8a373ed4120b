"""Private file storage: evidence, generated reports and discussion attachments."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files outside the web root with no public URL (a permission-checked view streams
    them). The location is read from settings on each use."""

    @property
    def base_location(self):
        return str(settings.KEEL_PRIVATE_STORAGE)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_storage():
    return PrivateStorage()
