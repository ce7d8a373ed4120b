"""Django finds ``inventory.registry.admin``; each context registers its own models."""

from inventory.capacity import admin as capacity_admin  # noqa: F401
from inventory.finops import admin as finops_admin  # noqa: F401
from inventory.gpu import admin as gpu_admin  # noqa: F401
from inventory.registry import admin as registry_admin  # noqa: F401
from inventory.usage import admin as usage_admin  # noqa: F401
