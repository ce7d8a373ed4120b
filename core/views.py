from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core import selectors, services
from core.forms import NotificationPreferencesForm
from core.models import NotificationPreference
from core.permissions import reads_whole_organisation, roles_of
from inventory.gpu.selectors import allocation_summary
from inventory.registry import selectors as inventory_selectors
from portfolio.initiatives import selectors as portfolio_selectors
from portfolio.initiatives.choices import Stage


@login_required
def home(request):
    """A landing page per role, with real counts from the same scoped selectors as the lists."""
    user = request.user
    initiatives = portfolio_selectors.initiative_list(user=user)
    by_stage = initiatives.aggregate(
        total=Count("pk"),
        **{stage: Count("pk", filter=Q(stage=stage)) for stage in Stage.values},
    )
    context = {
        "roles": roles_of(user),
        "org_wide": reads_whole_organisation(user),
        "stage_counts": [(Stage(value).label, value, by_stage[value]) for value in Stage.values],
        "initiative_total": by_stage["total"],
        "my_initiatives": initiatives.filter(
            Q(accountable_owner=user) | Q(technical_lead=user)
        ).order_by("-updated_at")[:8],
        "model_count": inventory_selectors.model_list(user=user).count(),
        "allocation_summary": allocation_summary(user=user),
        "notifications": selectors.notification_list(user=user).filter(read_at__isnull=True)[:5],
    }
    return render(request, "core/home.html", context)


@login_required
def notification_list(request):
    notifications = selectors.notification_list(user=request.user)[:100]
    return render(request, "core/notification_list.html", {"notifications": notifications})


@login_required
@require_POST
def notifications_mark_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("core:notification_list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    """Email on/off per notification kind; in-app notifications always arrive."""
    current = NotificationPreference.objects.email_by_kind(user=request.user)
    form = NotificationPreferencesForm(
        request.POST if request.method == "POST" else None, initial=current
    )
    if form.is_bound and form.is_valid():
        services.notification_preferences_update(user=request.user, email_by_kind=form.cleaned_data)
        messages.success(request, "Your email preferences are saved.")
        return redirect("core:notification_preferences")
    return render(request, "core/notification_preferences.html", {"form": form})
