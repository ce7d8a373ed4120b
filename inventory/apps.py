from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Models and GPU inventory"

    def ready(self):
        from inventory import hooks as lifecycle_hooks
        from inventory import hooks as merge_hooks

        lifecycle_hooks.register()
        merge_hooks.register()

        from inventory import navigation

        navigation.register()

        from core.selectors import register_audit_subject
        from inventory.capacity.models import GPUQuota, GPURequest
        from inventory.gpu.models import GPUAllocation
        from inventory.registry.models import AIModel, ModelVersion

        # A BU lead reads the audit events about their units' objects (core.selectors).
        for model in (AIModel, GPUAllocation, GPUQuota, GPURequest):
            register_audit_subject(model, "business_unit")
        register_audit_subject(ModelVersion, "model__business_unit")

        from core.discussions.selectors import register_discussion_subject
        from inventory.registry.selectors import model_list

        # Whoever sees a model reads and joins its discussion (core.discussions).
        register_discussion_subject(AIModel, model_list)

        from core.customfields import register_entity
        from inventory.registry.models import Vendor

        register_entity("ai_model", AIModel, label="AI model")
        register_entity("model_version", ModelVersion, label="Model version")
        register_entity("vendor", Vendor, label="Vendor")
        register_entity("gpu_allocation", GPUAllocation, label="GPU allocation")
