"""Inventory reactions to portfolio events (registered in InventoryConfig.ready)."""


def register() -> None:
    """Register this module's hooks with the portfolio services."""
