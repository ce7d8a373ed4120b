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


def submit_through_service(request, form, save, success):
    """The POST half of every create/edit view.

    When the form is valid, ``save(cleaned_data)`` calls the service; on success the user gets
    the ``success(obj)`` message and a redirect to the object, and a service ValidationError
    lands on the form's fields. Returns the redirect, or None to re-render the form.
    """
    from django.contrib import messages
    from django.shortcuts import redirect

    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except ValidationError as error:
        apply_validation_error(form, error)
        return None
    messages.success(request, success(saved))
    return redirect(saved)
