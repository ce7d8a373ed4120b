"""Pages of the bulk inventory import: history, upload, column mapping, dry-run preview,
confirm, and the job page with its progress bar (htmx polling) and result. Thin: each view
calls one ``import_services`` function and renders the page or the progress partial."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import Conflict
from core.exports import ListExport, export_links, list_page, person_name
from core.forms import apply_validation_error
from governance.imports import services as import_services
from governance.imports.choices import ImportStatus
from governance.imports.forms import ImportMappingForm, ImportUploadForm
from portfolio.initiatives.selectors import initiative_list

# A job may be (re)mapped and dry-run again until it is confirmed.
MAPPABLE = frozenset({ImportStatus.UPLOADED, ImportStatus.PREVIEWED})
ACTIVE = frozenset({ImportStatus.QUEUED, ImportStatus.RUNNING})
PROGRESS_PARTIAL = "governance/imports/partials/_import_progress.html"
IMPORT_STEPS = ((1, "Upload"), (2, "Map the columns"), (3, "Dry run"), (4, "Import"))


def _render(request, template: str, context: dict, **kwargs):
    return render(request, template, {"import_steps": IMPORT_STEPS, **context}, **kwargs)


IMPORT_EXPORT = ListExport(
    stem="imports",
    title="Imports",
    columns=(
        ("Imported at", lambda job: job.created_at),
        ("By", lambda job: person_name(job.created_by)),
        ("File", lambda job: job.filename),
        ("Preset", lambda job: job.preset),
        ("Status", lambda job: job.get_status_display()),
        ("Rows", lambda job: job.total_rows),
        ("SHA-256", lambda job: job.sha256),
    ),
    queryset=lambda request: import_services.import_jobs_list(actor=request.user),
)


@login_required
@require_GET
@list_page("governance:import_list")
def import_list(request):
    """The import history, newest first: who, when, which file (with its SHA-256)."""
    paginator = Paginator(
        import_services.import_jobs_list(actor=request.user), settings.KEEL_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "governance/imports/import_list.html",
        {
            "page_obj": page,
            "rows": page.object_list,
            "querystring": "",
            "may_import": import_services.can_import(request.user),
            **export_links(request, "governance:import_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    if not import_services.can_import(request.user):
        raise PermissionDenied("Only CoE admins, administrators and BU leads import the inventory.")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_services.import_job_create(
                actor=request.user,
                filename=upload.name,
                content=upload.read(),
                preset=form.cleaned_data["preset"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("governance:import_mapping", pk=job.pk)
    return _render(request, "governance/imports/import_upload.html", {"form": form})


def _redirect_past_mapping(job):
    """A confirmed job is not mapped again: its page shows where it is."""
    return redirect("governance:import_detail", pk=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk):
    """One select per file column, pre-filled from the preset's suggestion; submitting runs
    the dry run (and may save the mapping as a named preset)."""
    job = import_services.import_job_get(actor=request.user, pk=pk)
    if job.status not in MAPPABLE:
        return _redirect_past_mapping(job)
    form = ImportMappingForm(
        request.POST or None,
        columns=import_services.import_job_columns(job),
        targets=import_services.target_fields(),
        initial={
            "create_units": bool(job.options.get("create_units")),
            "id_column": job.options.get("id_column", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            import_services.import_job_preview(
                actor=request.user,
                job=job,
                mapping=form.mapping(),
                options=form.options(),
                save_preset_as=form.cleaned_data["save_preset_as"].strip(),
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if form.cleaned_data["save_preset_as"].strip():
                messages.success(
                    request,
                    f"Saved the mapping as “{form.cleaned_data['save_preset_as'].strip()}”.",
                )
            return redirect("governance:import_preview", pk=job.pk)
    return _render(
        request,
        "governance/imports/import_mapping.html",
        {"job": job, "form": form, "targets": import_services.target_fields()},
    )


@login_required
@require_GET
def import_preview(request, pk):
    """The dry run's report: what would be created, updated and skipped, every rejected row
    with its line and reason, the warnings; Confirm imports it."""
    job = import_services.import_job_get(actor=request.user, pk=pk)
    if job.status == ImportStatus.UPLOADED:
        return redirect("governance:import_mapping", pk=job.pk)
    preview = job.preview or {}
    counts = preview.get("counts", {})
    return _render(
        request,
        "governance/imports/import_preview.html",
        {
            "job": job,
            "preview": preview,
            "counts": counts,
            "rows": preview.get("rows", []),
            "rejected": preview.get("rejected", []),
            "warnings": preview.get("warnings", []),
            "importable": counts.get("create", 0) + counts.get("update", 0),
            "may_confirm": job.status == ImportStatus.PREVIEWED,
        },
    )


@login_required
@require_POST
def import_confirm(request, pk):
    job = import_services.import_job_get(actor=request.user, pk=pk)
    try:
        job = import_services.import_job_confirm(actor=request.user, job=job)
    except Conflict as error:
        messages.error(request, " ".join(error.messages))
        return redirect("governance:import_detail", pk=job.pk)
    messages.success(
        request, f"Importing {job.filename}: nothing is written until every row is in."
    )
    return redirect("governance:import_detail", pk=job.pk)


def _result_initiatives(request, job) -> dict:
    """The created and updated initiatives the viewer may see, in reference order."""
    result = job.result or {}
    created = result.get("created") or []
    updated = result.get("updated") or []
    if not (created or updated):
        return {"created_initiatives": [], "updated_initiatives": []}
    rows = list(
        initiative_list(user=request.user).filter(pk__in=[*created, *updated]).order_by("reference")
    )
    created_set = set(created)
    return {
        "created_initiatives": [row for row in rows if row.pk in created_set],
        "updated_initiatives": [row for row in rows if row.pk not in created_set],
    }


def _progress_context(request, job) -> dict:
    progress = import_services.import_job_progress(job)
    context = {
        "job": job,
        "progress": progress,
        "polling": progress["status"] in ACTIVE,
        "result": job.result or {},
    }
    if progress["status"] == ImportStatus.SUCCEEDED:
        context.update(_result_initiatives(request, job))
    return context


@login_required
@require_GET
def import_detail(request, pk):
    job = import_services.import_job_get(actor=request.user, pk=pk)
    return _render(
        request, "governance/imports/import_detail.html", _progress_context(request, job)
    )


@login_required
@require_GET
def import_progress(request, pk):
    """The progress partial: it polls itself every second while the job is queued or running
    and, once finished, comes back with the result and without the trigger."""
    job = import_services.import_job_get(actor=request.user, pk=pk)
    response = render(request, PROGRESS_PARTIAL, _progress_context(request, job))
    patch_vary_headers(response, ["HX-Request"])
    return response
