"""The create and edit pages of simple reference data (GPU pools, vendors, vendor products).

Interface code: each context describes its form page once with a ``ReferenceForm`` and gets
its views from it; the POST half is ``core.forms.submit_through_service``.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from core.forms import submit_through_service


def editable_copy(instance):
    """A copy for a ModelForm to write its input into, so a rejected edit leaves the object
    the page describes (heading, links) as it is stored."""
    return copy.copy(instance)


def _no_form_kwargs(obj) -> dict:
    return {}


@dataclass(frozen=True)
class ReferenceForm:
    """The form page of one kind of reference data.

    - ``form_class``: the ModelForm; ``form_kwargs(obj)`` gives its further keyword arguments
      (``obj`` is None on the create page).
    - ``template``: renders ``form`` and the object under ``name`` (None on the create page).
      ``name`` is also the keyword the update service takes the object by.
    - ``permitted(user)``: who may create and edit; anyone else gets a 403 with ``denied``.
    - ``success_url(obj)``: where a save goes; None means the object's own page.
    """

    form_class: type
    template: str
    name: str
    permitted: Callable
    denied: str
    form_kwargs: Callable = _no_form_kwargs
    success_url: Callable | None = None

    def create_view(self, service, *, success):
        """The create page: ``service(actor=…, data=…)`` saves, ``success(obj)`` is the
        message."""

        @login_required
        @require_http_methods(["GET", "POST"])
        def view(request):
            self._check(request.user)
            return self._page(
                request, None, lambda data: service(actor=request.user, data=data), success
            )

        return view

    def update_view(self, selector, service, *, success):
        """The edit page: ``selector(user=…, **url_kwargs)`` fetches the object (scoped, so
        404 before 403), ``service(actor=…, <name>=obj, data=…)`` saves."""

        @login_required
        @require_http_methods(["GET", "POST"])
        def view(request, **url_kwargs):
            obj = selector(user=request.user, **url_kwargs)
            self._check(request.user)
            return self._page(
                request,
                obj,
                lambda data: service(actor=request.user, data=data, **{self.name: obj}),
                success,
            )

        return view

    def _check(self, user) -> None:
        if not self.permitted(user):
            raise PermissionDenied(self.denied)

    def _page(self, request, obj, save, success):
        instance = {} if obj is None else {"instance": editable_copy(obj)}
        # A form with custom fields shows those the person may see.
        user = {"user": request.user} if hasattr(self.form_class, "add_custom_fields") else {}
        form = self.form_class(request.POST or None, **instance, **user, **self.form_kwargs(obj))
        done = submit_through_service(request, form, save, success=success, to=self.success_url)
        if done:
            return done
        return render(request, self.template, {"form": form, self.name: obj})
