from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def apply_validation_error(form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form, field by field where it names fields."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else NON_FIELD_ERRORS
            for item in errors:
                form.add_error(None if target == NON_FIELD_ERRORS else target, item)
    else:
        form.add_error(None, error)
