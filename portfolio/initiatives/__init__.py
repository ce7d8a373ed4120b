"""Initiatives (AI use cases): registration, references, stage changes with their guards and
history, deployments to business units; the change, merge and stage-guard registries."""
