"""Django finds ``portfolio.initiatives.admin``; each context registers its own models."""

from portfolio.initiatives import admin as initiatives_admin  # noqa: F401
