"""API for GPU FinOps finops."""


def register(router) -> None:
    """Add this module's viewsets to the API router."""
