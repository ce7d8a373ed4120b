"""Saved filters (issue 19): a person names the current filters of a list page, sees their
saved filters beside that list's filter bar, applies one (a link to ``path?query``) and
deletes it. Each row is its owner's alone; applying one is an ordinary request of the list,
so its rows still come from the list's scoped selector and FilterSet.

A saved filter is only a list page's path and a tidied query string (no page number, no
empty fields). The path must resolve to a view marked ``core.exports.list_page``, so a saved
filter can only ever link to a list of Keel's own.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.urls import Resolver404, resolve

from core.audit import record_event
from core.models import SavedFilter

# Parameters that are not filters: the page number and the form's own fields.
NOT_FILTERS = frozenset({"page", "csrfmiddlewaretoken"})
# Enough for any person's habits on one list; keeps the menu beside the filters short.
MAX_PER_LIST = 30
SAVED_FILTER_FIELDS = ("path", "name", "query")


def _require_person(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in to save filters.")


def is_list_path(path: str) -> bool:
    """Whether ``path`` is one of Keel's list pages (a view marked ``list_page``)."""
    if not path.startswith("/") or path.startswith("//"):
        return False
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "list_export", None) is not None


def tidy_query(query: str) -> str:
    """``query`` without the page number, the CSRF token and empty values, in its order."""
    params = QueryDict(query or "", mutable=True)
    for key in list(params):
        values = [value for value in params.getlist(key) if value.strip()]
        if key in NOT_FILTERS or not values:
            del params[key]
        else:
            params.setlist(key, values)
    return params.urlencode()


def saved_filter_list(*, user, path: str) -> QuerySet[SavedFilter]:
    """``user``'s saved filters of the list at ``path``, by name (nobody else's, ever)."""
    if user is None or not user.is_authenticated:
        return SavedFilter.objects.none()
    return SavedFilter.objects.filter(user=user, path=path)


def saved_filter_get(*, user, pk) -> SavedFilter:
    """One of ``user``'s saved filters; another person's is a 404, like an unknown one."""
    found = (
        SavedFilter.objects.filter(user=user, pk=pk).first()
        if user is not None and user.is_authenticated
        else None
    )
    if found is None:
        raise Http404("No such saved filter.")
    return found


def saved_filter_create(*, actor, path: str, name: str, query: str) -> SavedFilter:
    """Save the filters ``query`` of the list at ``path`` as ``actor``'s ``name``. Field
    errors: no name, a name already used on this list, a path that is not a list page, no
    filters to save (or too long), or too many saved filters on the list."""
    _require_person(actor)
    name, path, query = (name or "").strip(), (path or "").strip(), tidy_query(query)
    errors = {}
    if not is_list_path(path):
        errors["path"] = "Filters can be saved on list pages only."
    if not query:
        errors["query"] = "Choose some filters first: there is nothing to save."
    if errors:
        raise ValidationError(errors)
    saved = SavedFilter(user=actor, path=path, name=name, query=query)
    saved.full_clean(validate_constraints=False)
    duplicate = {"name": f"You already have a saved filter called “{name}” on this list."}
    try:
        with transaction.atomic():
            # Soft limit: the unique constraint, not this read, is what refuses a twin.
            listed = list(SavedFilter.objects.filter(user=actor, path=path).only("name"))
            if len(listed) >= MAX_PER_LIST:
                raise ValidationError(
                    {"name": f"At most {MAX_PER_LIST} saved filters per list: delete one first."}
                )
            if any(other.name.lower() == name.lower() for other in listed):
                raise ValidationError(duplicate)
            saved.save()
            record_event(
                actor=actor,
                action="saved_filter.created",
                target=saved,
                after={field: getattr(saved, field) for field in SAVED_FILTER_FIELDS},
            )
    except IntegrityError:  # a concurrent twin got there first
        raise ValidationError(duplicate) from None
    return saved


def saved_filter_delete(*, actor, saved_filter: SavedFilter) -> None:
    """Delete one of ``actor``'s saved filters (another person's is refused)."""
    _require_person(actor)
    if saved_filter.user_id != actor.pk:
        raise PermissionDenied("You can delete only your own saved filters.")
    with transaction.atomic():
        record_event(
            actor=actor,
            action="saved_filter.deleted",
            target=saved_filter,
            before={field: getattr(saved_filter, field) for field in SAVED_FILTER_FIELDS},
        )
        SavedFilter.objects.filter(pk=saved_filter.pk, user=actor).delete()
