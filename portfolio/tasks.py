"""Celery discovers ``tasks`` modules; the portfolio's tasks live beside their services."""

from .duplicate_tasks import *  # noqa: F403
from .roadmap_tasks import *  # noqa: F403
