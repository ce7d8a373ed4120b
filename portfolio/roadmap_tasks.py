"""Celery tasks for roadmap indicators (registered through portfolio/tasks.py)."""
