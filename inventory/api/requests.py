"""API for GPU FinOps requests."""


def register(router) -> None:
    """Add this module's viewsets to the API router."""
