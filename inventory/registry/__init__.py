"""The AI model registry: models, versions and model cards, lifecycle and release gate,
validations, monitoring and drift, review reminders, the vendor register."""
