"""API for the bulk inventory import."""


def register(router) -> None:
    """Add this module's viewsets to the API router."""
