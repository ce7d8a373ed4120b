"""Thin HTML views of the GPU ingest: import history, upload, one batch."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import apply_validation_error

from . import ingest_services
from .ingest import ParseError
from .ingest_forms import IngestUploadForm


@login_required
@require_GET
def ingest_list(request):
    if not ingest_services.can_view_batches(request.user):
        raise PermissionDenied("The import history is the platform team's.")
    paginator = Paginator(ingest_services.batch_list(user=request.user), settings.KEEL_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "inventory/ingest_list.html",
        {
            "page_obj": page,
            "rows": page.object_list,
            "querystring": "",
            "can_upload": ingest_services.can_ingest(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ingest_upload(request):
    if not ingest_services.can_ingest(request.user):
        raise PermissionDenied("Only platform engineers and CoE admins import usage and costs.")
    form = IngestUploadForm(request.POST or None, request.FILES or None)
    line_errors = []
    if request.method == "POST" and form.is_valid():
        try:
            batch = ingest_services.ingest_upload(
                actor=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                scraped_at=form.cleaned_data.get("scraped_at"),
            )
        except ParseError as exc:
            line_errors = exc.errors
            form.add_error(
                "file",
                f"{len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''} in the file; "
                "nothing was imported.",
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if batch.already_imported:
                messages.info(
                    request,
                    f"{batch.filename} was already imported on "
                    f"{batch.created_at:%d %b %Y %H:%M} UTC; nothing was written.",
                )
            else:
                messages.success(
                    request,
                    f"Imported {batch.filename}: {batch.rows_written} rows written.",
                )
            return redirect("inventory:ingest_detail", pk=batch.pk)
    return render(
        request, "inventory/ingest_upload.html", {"form": form, "line_errors": line_errors}
    )


@login_required
@require_GET
def ingest_detail(request, pk):
    batch = ingest_services.batch_get(user=request.user, pk=pk)
    summary = [(key.replace("_", " ").capitalize(), value) for key, value in batch.summary.items()]
    return render(request, "inventory/ingest_detail.html", {"batch": batch, "summary": summary})
