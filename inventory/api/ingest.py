"""API for GPU FinOps ingest."""


def register(router) -> None:
    """Add this module's viewsets to the API router."""
