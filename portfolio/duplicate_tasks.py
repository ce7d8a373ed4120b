"""Celery tasks for duplicate detection (registered through portfolio/tasks.py)."""
