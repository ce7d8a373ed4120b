"""Moving an initiative's inventory when it is merged into another (registered in
InventoryConfig.ready)."""


def register() -> None:
    """Register this module's hooks with the portfolio services."""
