import functools
import json
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import (
    directory,
    logins,
    mfa,
    passkeys,
    people,
    saved_filters,
    selectors,
    services,
    sso,
    tokens,
)
from core import sessions as browser_sessions
from core.audit import event_verifies, pretty_payload
from core.choices import BU_WRITE_ROLES, Role
from core.exceptions import Conflict
from core.exports import ListExport, export_links, list_page, yes_no
from core.filtersets import AuditEventFilterSet
from core.forms import (
    ApiTokenForm,
    GroupMappingForm,
    KeelAuthenticationForm,
    MembershipGrantForm,
    NotificationPreferencesForm,
    PeopleFilterForm,
    PersonInviteForm,
    WebhookForm,
    apply_validation_error,
)
from core.htmx import is_partial_request, render_list, render_partial_aware
from core.models import WEBHOOK_TEST_EVENT, AuditEvent, Membership, NotificationPreference
from core.permissions import (
    can_verify_audit_chain,
    can_view_audit_log,
    has_any_role,
    reads_whole_organisation,
    roles_of,
)
from governance.approvals import selectors as approval_selectors
from governance.approvals.choices import RequestStatus
from governance.approvals.delegation import NON_APPROVER_ROLES
from governance.reporting import dashboard as dashboard_figures
from governance.reporting import search as global_search
from inventory.gpu.selectors import allocation_summary
from inventory.registry import selectors as inventory_selectors
from portfolio.initiatives import selectors as portfolio_selectors
from portfolio.initiatives.choices import Stage
from portfolio.intake.selectors import wizard_drafts

# Who sees which part of the home page (the sections each persona comes for).
HEADLINE_ROLES = frozenset({Role.EXECUTIVE, Role.BU_LEAD, Role.COE_ADMIN, Role.ADMIN})
APPROVER_ROLES = frozenset(Role.values) - NON_APPROVER_ROLES
DUE_SOON = timedelta(days=2)
HOME_ROWS = 8


@login_required
def home(request):
    """A landing page per persona, with real counts from the same scoped selectors as the
    lists: an executive's dashboard headline, a reviewer's queue and SLAs, a BU member's
    initiatives, drafts and what waits on them; then the portfolio overview."""
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
        ).order_by("-updated_at")[:HOME_ROWS],
        "model_count": inventory_selectors.model_list(user=user).count(),
        "allocation_summary": allocation_summary(user=user),
        "notifications": selectors.notification_list(user=user).filter(read_at__isnull=True)[:5],
        **_waiting_on_member(user),
    }
    context.update(_headline(user))
    queue = _review_queue(user)
    # An executive or admin decides only escalations: their queue shows when something waits.
    if queue and ("board" not in context or queue["queue_sla"]["total"]):
        context.update(queue)
    return render(request, "core/home.html", context)


def _headline(user) -> dict:
    """The executive dashboard's headline figures (the same cached read as /dashboard/)."""
    if not (has_any_role(user, HEADLINE_ROLES) and dashboard_figures.can_view_dashboard(user)):
        return {}
    filters = dashboard_figures.dashboard_filters(user=user, params={})
    return {"board": dashboard_figures.dashboard(user=user, filters=filters)}


def _review_queue(user) -> dict:
    """The requests the reviewer can decide now (the queue's "Awaiting me"), most urgent
    first, with how many are overdue or due within ``DUE_SOON``."""
    if not has_any_role(user, APPROVER_ROLES):
        return {}
    now = timezone.now()
    queue = approval_selectors.request_queue(user=user, scope="mine")
    sla = queue.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(step_due_at__lt=now)),
        due_soon=Count("pk", filter=Q(step_due_at__gte=now, step_due_at__lt=now + DUE_SOON)),
    )
    return {"queue_rows": list(queue[:HOME_ROWS]), "queue_sla": sla, "now": now}


def _waiting_on_member(user) -> dict:
    """A BU member's unfinished registrations, the requests sent back to them for changes,
    and their requests still with the reviewers."""
    if not has_any_role(user, BU_WRITE_ROLES):
        return {}
    theirs = Q(submitted_by=user) | Q(initiative__accountable_owner=user)
    theirs |= Q(initiative__technical_lead=user)
    requests = approval_selectors.request_list(user=user).filter(theirs).order_by("-updated_at")
    return {
        "member_home": True,
        "drafts": list(wizard_drafts(user=user)[:HOME_ROWS]),
        "changes_requested": list(
            requests.filter(status=RequestStatus.CHANGES_REQUESTED)[:HOME_ROWS]
        ),
        "in_review": list(requests.filter(status=RequestStatus.PENDING)[:HOME_ROWS]),
    }


@login_required
@require_GET
def search(request):
    """``/search/?q=``: every register's matches, grouped; an exact initiative reference
    (``AI-0094``) that the reader may see goes straight to the initiative."""
    text = global_search.normalise(request.GET.get("q", ""))
    target = global_search.reference_target(user=request.user, text=text)
    if target is not None:
        return redirect("portfolio:initiative_detail", pk=target)
    results = global_search.search(user=request.user, text=text)
    context = {
        "q": text,
        "results": results,
        "found": sum(register.total for register in results),
        "full_text": global_search.uses_full_text(),
    }
    return render(request, "core/search.html", context)


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


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The person's API tokens and a form for a new one; the new key is shown once, in the
    response to the POST that created it (never stored, never redirected with)."""
    form = ApiTokenForm(request.POST or None, max_days=tokens.max_days())
    created = key = None
    if request.method == "POST" and form.is_valid():
        try:
            created, key = tokens.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                scope=form.cleaned_data["scope"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            form = ApiTokenForm(max_days=tokens.max_days())
    context = {
        "form": form,
        "created": created,
        "key": key,
        "tokens": tokens.tokens_of(request.user)[:200],
        "now": timezone.now(),
        "may_manage": tokens.can_manage_tokens(request.user),
    }
    response = render(request, "core/api_tokens.html", context, status=201 if key else 200)
    if key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = tokens.token_get(actor=request.user, pk=pk)
    try:
        tokens.token_revoke(actor=request.user, token=token)
    except (PermissionDenied, Conflict) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Revoked “{token.name}” (keel_{token.prefix}_…).")
    if request.POST.get("next") == "all" and tokens.can_manage_tokens(request.user):
        return redirect("core:api_tokens_all")
    return redirect("core:api_tokens")


@login_required
def api_tokens_all(request):
    """Everyone's tokens (CoE admins), searchable, 50 a page."""
    q = request.GET.get("q", "")
    page = Paginator(tokens.all_tokens(actor=request.user, q=q), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "page_obj": page,
        "tokens": page.object_list,
        "q": q,
        "querystring": f"q={q}" if q else "",
        "now": timezone.now(),
    }
    return render(request, "core/api_tokens_all.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def locked_sign_ins(request):
    """Sign-ins locked out now (CoE admins), each with an Unlock button."""
    if request.method == "POST":
        try:
            attempt_id = int(request.POST.get("attempt", ""))
        except ValueError:
            attempt_id = 0
        removed = logins.sign_in_unlock(actor=request.user, attempt_id=attempt_id)
        if removed:
            messages.success(request, "Unlocked: that username and address may sign in again.")
        else:
            messages.error(request, "That lockout has already ended or been lifted.")
        return redirect("core:locked_sign_ins")
    locked = logins.locked_sign_ins(actor=request.user)[:200]
    return render(
        request,
        "core/locked_sign_ins.html",
        {"locked": locked, "failure_limit": settings.AXES_FAILURE_LIMIT},
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_sessions(request):
    """The person's signed-in sessions; sign one out, or all the others."""
    current = request.session.session_key
    if request.method == "POST":
        if request.POST.get("everywhere"):
            ended = browser_sessions.sign_out_everywhere(actor=request.user, current_key=current)
            messages.success(
                request, f"Signed out of {ended} other session{'s' if ended != 1 else ''}."
            )
        else:
            try:
                pk = int(request.POST.get("session", ""))
            except ValueError:
                pk = 0
            try:
                browser_sessions.session_sign_out(actor=request.user, pk=pk, current_key=current)
            except PermissionDenied as refused:
                messages.error(request, str(refused))
            else:
                messages.success(request, "That session is signed out.")
        return redirect("core:account_sessions")
    listed = browser_sessions.sessions_of(request.user)[:100]
    return render(request, "core/account_sessions.html", {"sessions": listed, "current": current})


def _paginate(request, items, per_page: int = 50):
    """The requested page of ``items`` and the query string (without ``page``) its links keep."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _people_listed(request):
    filters = PeopleFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    listed = people.people_list(
        actor=request.user,
        q=data.get("q", ""),
        role=data.get("role", ""),
        unit=data.get("business_unit"),
        status=data.get("status", ""),
    )
    return filters, listed


def _memberships_text(person) -> str:
    return "; ".join(
        f"{m.get_role_display()} · {m.business_unit.code} ({m.get_granted_via_display()})"
        for m in person.memberships.all()
    )


PEOPLE_EXPORT = ListExport(
    stem="people",
    title="People",
    columns=(
        ("Username", lambda person: person.username),
        ("Name", lambda person: person.get_full_name()),
        ("Email", lambda person: person.email),
        ("Roles (how granted)", _memberships_text),
        ("Last sign-in", lambda person: person.last_login),
        ("Active", lambda person: yes_no(person.is_active)),
    ),
    queryset=lambda request: _people_listed(request)[1],
)


@login_required
@list_page("core:people_list")
def people_list(request):
    """Everyone and their access (CoE admins): search, filters, 50 a page."""
    filters, listed = _people_listed(request)
    page, querystring = _paginate(request, listed)
    context = {
        "filters": filters,
        "page_obj": page,
        "people": page.object_list,
        "querystring": querystring,
        **export_links(request, "core:people_list"),
    }
    return render(request, "core/people_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def person_invite(request):
    if not people.can_manage_people(request.user):
        raise PermissionDenied("Only CoE admins and administrators manage people and access.")
    form = PersonInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = people.person_invite(
                actor=request.user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                request=request,
            )
            if data.get("business_unit"):
                people.person_grant(
                    actor=request.user,
                    user=person,
                    business_unit=data["business_unit"],
                    role=data["role"],
                )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Invited {person.email}: they choose a password by email.")
            return redirect("core:person_detail", pk=person.pk)
    return render(request, "core/person_invite.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def person_detail(request, pk):
    """One person's access: memberships (change role, remove), a new one, deactivate."""
    person = people.person_get(actor=request.user, pk=pk)
    grant_form = MembershipGrantForm(
        request.POST if request.POST.get("action") == "grant" else None
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "grant":
                if grant_form.is_valid():
                    people.person_grant(actor=request.user, user=person, **grant_form.cleaned_data)
                    messages.success(request, "Membership added.")
                    return redirect("core:person_detail", pk=person.pk)
            elif action in ("remove", "change_role"):
                membership = Membership.objects.select_related("user").get(
                    pk=request.POST.get("membership"), user=person
                )
                if action == "remove":
                    people.membership_remove(actor=request.user, membership=membership)
                    messages.success(request, "Membership removed.")
                else:
                    people.membership_change_role(
                        actor=request.user, membership=membership, role=request.POST.get("role")
                    )
                    messages.success(request, "Role changed.")
                return redirect("core:person_detail", pk=person.pk)
            elif action == "reset_mfa":
                mfa.mfa_disable(actor=request.user, user=person)
                messages.success(request, "Two-factor sign-in reset: they set it up again.")
                return redirect("core:person_detail", pk=person.pk)
            elif action in ("deactivate", "reactivate"):
                people.person_set_active(
                    actor=request.user, user=person, active=action == "reactivate"
                )
                messages.success(request, f"{person.get_username()} is {action}d.")
                return redirect("core:person_detail", pk=person.pk)
        except (PermissionDenied, Membership.DoesNotExist, ValueError) as refused:
            messages.error(request, str(refused) or "No such membership.")
            return redirect("core:person_detail", pk=person.pk)
        except ValidationError as error:
            if action == "grant":
                apply_validation_error(grant_form, error)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect("core:person_detail", pk=person.pk)
    context = {
        "person": person,
        "memberships": list(person.memberships.all()),
        "grant_form": grant_form,
        "roles": Role.choices,
        "is_self": person.pk == request.user.pk,
        "has_mfa": mfa.has_mfa(person),
    }
    return render(request, "core/person_detail.html", context)


def _safe_next(request, fallback="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


# Recovery codes issued by a passkey registration (a JSON call), shown once by the next
# setup page.
NEW_CODES_KEY = "_keel_new_recovery_codes"


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """Two-factor sign-in: passkeys (list, add, rename, remove) and an authenticator app (QR
    code and its secret, then a code to confirm); the recovery codes are shown once, with
    the first factor. Or turn it all off."""
    user = request.user
    if mfa.has_mfa(user) and not user.is_verified():
        return redirect(f"{reverse('mfa_verify')}?next={reverse('mfa_setup')}")
    codes, error = request.session.pop(NEW_CODES_KEY, None), ""
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "disable":
        try:
            mfa.mfa_disable(actor=user, user=user)
        except PermissionDenied as refused:
            messages.error(request, str(refused))
        else:
            mfa.remember_device(request, False)
            messages.success(request, "Two-factor sign-in is off.")
        return redirect("mfa_setup")
    if action in ("rename_passkey", "remove_passkey"):
        pk = request.POST.get("passkey", "")
        try:
            if action == "rename_passkey":
                passkey = passkeys.passkey_rename(actor=user, pk=pk, name=request.POST.get("name"))
                messages.success(request, f"Passkey renamed to “{passkey.name}”.")
            elif passkeys.passkey_remove(request, pk=pk):
                messages.success(request, "Passkey removed.")
            else:
                messages.success(request, "Passkey removed: two-factor sign-in is off.")
        except (PermissionDenied, ValueError) as refused:
            messages.error(request, str(refused))
        return redirect("mfa_setup")
    if request.method == "POST":
        codes = mfa.totp_confirm(request, token=request.POST.get("token", ""))
        if codes is None:
            error = "That code does not match: check the app's clock and try the next code."
        elif codes:
            # sessions signed in with the password alone end (as after a password change)
            browser_sessions.sign_out_everywhere(
                actor=user, current_key=request.session.session_key
            )
        else:
            messages.success(request, "Authenticator app added; your recovery codes stay.")
            return redirect("mfa_setup")
    totp_enabled = mfa.has_totp(user)
    device = None if totp_enabled else (mfa.pending_totp(user) or mfa.totp_begin(user))
    context = {
        "enabled": mfa.has_mfa(user),
        "totp_enabled": totp_enabled,
        "passkeys": list(passkeys.passkey_list(user=user)),
        "codes": codes,
        "error": error,
        "device": device,
        "qr": mfa.qr_svg(device) if device else "",
        "secret": device.config_url.split("secret=", 1)[1].split("&", 1)[0] if device else "",
        "required": mfa.mfa_required(user),
        "next": _safe_next(request),
    }
    response = render(request, "registration/mfa_setup.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """The second step of signing in: a passkey, a code from the app, or a recovery code."""
    if request.user.is_verified():
        return redirect(_safe_next(request))
    if not mfa.has_mfa(request.user):  # reset meanwhile: nothing to ask
        mfa.remember_device(request, False)
        return redirect(_safe_next(request))
    error = ""
    if request.method == "POST":
        if mfa.mfa_verify(request, token=request.POST.get("token", "")):
            return redirect(_safe_next(request))
        error = "That code is not right (or was used already). Try the next code from the app."
    context = {
        "error": error,
        "next": _safe_next(request),
        "has_passkey": passkeys.passkey_list(user=request.user).exists(),
    }
    return render(request, "registration/mfa_verify.html", context)


def passkey_ceremony(view):
    """A passkey step called by static/js/passkeys.js: POST with a JSON body (CSRF token in
    the X-CSRFToken header), answered in JSON; a refusal is ``{"detail": ...}`` with its
    status, for the page to show."""

    @require_POST
    @functools.wraps(view)
    def wrapped(request):
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "Sign in with your password first."}, status=401)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JsonResponse({"detail": "The browser sent something unreadable."}, status=400)
        try:
            return JsonResponse(view(request, body))
        except passkeys.PasskeyRefused as refused:
            return JsonResponse(
                {"detail": str(refused), "code": refused.code}, status=refused.status
            )
        except PermissionDenied as refused:
            return JsonResponse({"detail": str(refused), "code": "forbidden"}, status=403)

    return wrapped


def _credential(body) -> dict:
    """The browser's PublicKeyCredential as JSON (py_webauthn refuses a malformed one)."""
    credential = body.get("credential")
    return credential if isinstance(credential, dict) else {}


@passkey_ceremony
def passkey_register_begin(request, body):
    return passkeys.passkey_register_begin(request)


@passkey_ceremony
def passkey_register_complete(request, body):
    """Keep the new passkey; the setup page then shows the recovery codes, if any."""
    _, codes = passkeys.passkey_register_complete(
        request, credential=_credential(body), name=str(body.get("name") or "")
    )
    if codes:
        request.session[NEW_CODES_KEY] = codes
        browser_sessions.sign_out_everywhere(
            actor=request.user, current_key=request.session.session_key
        )
    else:
        messages.success(request, "Passkey added.")
    return {"redirect": f"{reverse('mfa_setup')}?{urlencode({'next': _safe_next(request)})}"}


@passkey_ceremony
def passkey_verify_begin(request, body):
    return passkeys.passkey_verify_begin(request)


@passkey_ceremony
def passkey_verify_complete(request, body):
    """Signed in with the passkey: where to go next."""
    passkeys.passkey_verify(request, credential=_credential(body))
    return {"redirect": _safe_next(request)}


class KeelPasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (the old one, then the new one twice, Django's validators).
    A person who signs in through single sign-on has no Keel password to change."""

    template_name = "registration/password_change_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_usable_password():
            raise PermissionDenied(
                "You sign in through your organisation's single sign-on: change your password "
                "there."
            )
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        logins.record_password_changed(user=self.request.user)
        messages.success(self.request, "Your password was changed. Other sessions are signed out.")
        return response


class KeelLoginView(auth_views.LoginView):
    """Sign in: a "Sign in with …" button per identity provider, and the local password
    form unless ``KEEL_LOCAL_LOGIN`` is off (then only a break-glass superuser uses it,
    from the folded "Administrator sign-in")."""

    form_class = KeelAuthenticationForm

    def dispatch(self, request, *args, **kwargs):
        self.providers = sso.sso_providers(request)
        response = super().dispatch(request, *args, **kwargs)
        origins = sorted({p["origin"] for p in self.providers if p["origin"]})
        if origins:
            # Chromium applies form-action to the redirect after a form is posted.
            response._csp_update = {"form-action": origins}
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sso_providers=self.providers, local_login=settings.KEEL_LOCAL_LOGIN, **kwargs
        )


@login_required
def no_access(request):
    """Where someone signed in with no role lands: whom to ask, and what Keel received."""
    contacts = [] if settings.KEEL_ACCESS_CONTACT else people.access_contacts()
    context = {
        "contact": settings.KEEL_ACCESS_CONTACT,
        "contacts": contacts,
        "groups": request.session.get(sso.SSO_GROUPS_KEY, []),
        "has_roles": bool(roles_of(request.user)) or request.user.is_superuser,
    }
    return render(request, "registration/no_access.html", context)


def account_inactive(request):
    return render(request, "registration/account_inactive.html", status=403)


@login_required
@require_http_methods(["GET", "POST"])
def group_mappings(request):
    """Directory group → role mappings (CoE admins): list with search, add one, remove one."""
    listed = directory.mapping_list(actor=request.user, q=request.GET.get("q", ""))
    providers = [(p["id"], p["name"]) for p in sso.sso_providers(request)]
    form = GroupMappingForm(
        request.POST if request.POST.get("action") == "add" else None, providers=providers
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" and form.is_valid():
                mapping = directory.mapping_create(actor=request.user, **form.cleaned_data)
                messages.success(request, f"Added: {mapping}.")
                return redirect("core:group_mappings")
            if action == "delete":
                mapping = listed.filter(pk=request.POST.get("mapping")).first()
                if mapping is not None:
                    directory.mapping_delete(actor=request.user, mapping=mapping)
                    messages.success(request, f"Removed: {mapping}.")
                return redirect("core:group_mappings")
        except ValidationError as error:
            apply_validation_error(form, error)
    page, querystring = _paginate(request, listed)
    names = dict(providers)
    for mapping in page.object_list:
        mapping.provider_name = names.get(mapping.provider, mapping.provider)
    context = {
        "form": form,
        "page_obj": page,
        "mappings": page.object_list,
        "q": request.GET.get("q", ""),
        "querystring": querystring,
    }
    return render(request, "core/group_mappings.html", context)


def saml_finish_acs(request, organization_slug):
    """allauth's SAML ACS finish, with a replayed or unsolicited Response (no sign-in of this
    browser waits for it) refused on Keel's page with the reason, not a bare 403."""
    from allauth.socialaccount.providers.saml.views import finish_acs

    try:
        return finish_acs(request, organization_slug=organization_slug)
    except PermissionDenied:
        return sso.refuse_unsolicited(request, organization_slug)


# --- The audit log (issue 19) ---------------------------------------------------------------


def _scoped_audit_events(request):
    return selectors.audit_event_list(user=request.user)


AUDIT_EXPORT = ListExport(
    stem="audit-log",
    title="Audit log",
    columns=(
        ("Sequence", lambda event: event.sequence),
        ("Recorded at", lambda event: event.created_at),
        ("Actor", lambda event: event.actor.get_username() if event.actor else "system"),
        ("Action", lambda event: event.action),
        ("Object type", lambda event: event.object_type),
        ("Object id", lambda event: event.object_id),
        ("Object", lambda event: event.object_repr),
        ("Reason", lambda event: event.reason),
        ("Hash", lambda event: event.hash),
    ),
    queryset=_scoped_audit_events,
    filterset_class=AuditEventFilterSet,
    permitted=can_view_audit_log,
)


@login_required
@require_http_methods(["GET"])
@list_page("core:audit_list")
def audit_list(request):
    """The audit log, scoped (``core.selectors.audit_event_list``) and filterable; 403 for
    roles that read none of it."""
    if not can_view_audit_log(request.user):
        raise PermissionDenied("Only administrators, CoE admins, risk officers and BU leads.")
    return render_list(
        request,
        template="core/audit_list.html",
        queryset=selectors.audit_event_list(user=request.user),
        filterset_class=AuditEventFilterSet,
        extra_context={
            "verification": selectors.audit_verification_latest(),
            "can_verify": can_verify_audit_chain(request.user),
            **export_links(request, "core:audit_list"),
        },
    )


@login_required
def audit_detail(request, pk):
    """One event: its canonical payload, its place in the chain and whether it verifies."""
    if not can_view_audit_log(request.user):
        raise PermissionDenied("Only administrators, CoE admins, risk officers and BU leads.")
    event = selectors.audit_event_get(user=request.user, pk=pk)
    previous = (
        AuditEvent.objects.filter(sequence=event.sequence - 1)
        .values_list("hash", flat=True)
        .first()
    )
    problem = event_verifies(event, previous or "")
    verification = selectors.audit_verification_latest()
    context = {
        "event": event,
        "payload": pretty_payload(event),
        "problem": problem,
        "verification": verification,
        "covered": bool(
            verification and verification.ok and verification.checked >= event.sequence
        ),
    }
    return render(request, "core/audit_detail.html", context)


@login_required
@require_POST
def audit_verify(request):
    """Start a verification of the whole chain (administrators and CoE admins)."""
    services.audit_verification_request(actor=request.user)
    messages.success(request, "Verification of the audit chain started; its result shows here.")
    return redirect("core:audit_list")


# --- Saved filters (issue 19) -----------------------------------------------------------------

SAVED_FILTERS_TEMPLATE = "core/saved_filters.html"


def _saved_filters_context(request, path: str, *, query: str = "", form_errors=None) -> dict:
    return {
        "saved_filters": saved_filters.saved_filter_list(user=request.user, path=path),
        "saved_filter_path": path,
        "saved_filter_query": query,
        "saved_filter_errors": form_errors or [],
    }


def _back_to_list(path: str, query: str = ""):
    """A redirect to the list the saved filter belongs to (only ever one of Keel's lists)."""
    if not saved_filters.is_list_path(path):
        return redirect("home")
    query = saved_filters.tidy_query(query)
    return redirect(f"{path}?{query}" if query else path)


@login_required
@require_GET
def saved_filter_list(request):
    """The person's saved filters of the list ``?path=``: the fragment beside its filter bar
    (htmx, loaded after the page) or, without JavaScript, a page of links."""
    path = request.GET.get("path", "")
    context = _saved_filters_context(request, path, query=request.GET.get("query", ""))
    context["is_list"] = saved_filters.is_list_path(path)
    return render_partial_aware(
        request, SAVED_FILTERS_TEMPLATE, context, partial="list", push_url=False
    )


@login_required
@require_POST
def saved_filter_create(request):
    """Save the posted filters (``query``) of the list ``path`` under ``name``. An htmx
    request gets the list of saved filters again and the save form (cleared, or with the
    refusal); a plain one goes back to the list with a message."""
    path, query = request.POST.get("path", ""), request.POST.get("query", "")
    errors = []
    try:
        saved = saved_filters.saved_filter_create(
            actor=request.user, path=path, name=request.POST.get("name", ""), query=query
        )
    except ValidationError as error:
        errors = [message for messages_ in error.message_dict.values() for message in messages_]
    if not is_partial_request(request):
        for message in errors:
            messages.error(request, message)
        if not errors:
            messages.success(request, f"Saved the filters as “{saved.name}”.")
        return _back_to_list(path, query)
    context = _saved_filters_context(request, path, query=query, form_errors=errors)
    context["saved_name"] = "" if errors else saved.name
    context["entered_name"] = request.POST.get("name", "") if errors else ""
    return render(request, "core/saved_filters.html#created", context)


@login_required
@require_POST
def saved_filter_delete(request, pk):
    """Delete one of the person's saved filters (another person's is a 404)."""
    saved = saved_filters.saved_filter_get(user=request.user, pk=pk)
    saved_filters.saved_filter_delete(actor=request.user, saved_filter=saved)
    if not is_partial_request(request):
        messages.success(request, f"Deleted the saved filter “{saved.name}”.")
        return _back_to_list(saved.path)
    context = _saved_filters_context(request, saved.path)
    return render_partial_aware(
        request, SAVED_FILTERS_TEMPLATE, context, partial="list", push_url=False
    )


# --- Webhooks (issue 19): set up by administrators and CoE admins --------------------------

WEBHOOK_DETAIL_TEMPLATE = "core/webhook_detail.html"


def _webhook_data(form) -> dict:
    return {name: form.cleaned_data[name] for name in ("name", "url", "business_unit", "kinds")}


def _webhook_page(request, webhook, *, form=None, secret="", status=200):
    """The webhook's page: its settings form, actions and recent deliveries. A signing
    secret is shown only in the answer to the POST that made it (never stored in the
    session, never cached)."""
    context = {
        "webhook": webhook,
        "form": form or WebhookForm.for_webhook(webhook),
        "deliveries": selectors.webhook_recent_deliveries(webhook=webhook),
        "secret": secret,
    }
    response = render(request, WEBHOOK_DETAIL_TEMPLATE, context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def webhooks(request):
    """Every webhook (administrators and CoE admins; 403 for others)."""
    context = {
        "webhooks": selectors.webhook_list(user=request.user),
        "test_event": WEBHOOK_TEST_EVENT,
    }
    return render(request, "core/webhooks.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request):
    """A new webhook; its signing secret is shown once, on the page the POST answers with."""
    selectors.webhook_list(user=request.user)  # the permission check, before any form
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = services.webhook_create(actor=request.user, data=_webhook_data(form))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Webhook “{webhook.name}” created.")
            webhook = selectors.webhook_get(user=request.user, pk=webhook.pk)
            return _webhook_page(request, webhook, secret=webhook.secret, status=201)
    return render(request, "core/webhook_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request, pk):
    """One webhook: edit it, and see its recent deliveries."""
    webhook = selectors.webhook_get(user=request.user, pk=pk)
    form = WebhookForm.for_webhook(webhook, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(actor=request.user, webhook=webhook, data=_webhook_data(form))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Webhook “{form.cleaned_data['name']}” saved.")
            return redirect("core:webhook_detail", pk=webhook.pk)
    return _webhook_page(request, webhook, form=form)


@login_required
@require_POST
def webhook_action(request, pk, action):
    """Activate, deactivate, rotate the secret (shown once), send a test event, delete."""
    webhook = selectors.webhook_get(user=request.user, pk=pk)
    user = request.user
    try:
        if action == "activate" or action == "deactivate":
            services.webhook_set_active(actor=user, webhook=webhook, active=action == "activate")
            messages.success(request, f"Webhook “{webhook.name}” {action}d.")
        elif action == "rotate":
            secret = services.webhook_rotate_secret(actor=user, webhook=webhook)
            messages.success(request, "New signing secret made; the old one no longer signs.")
            return _webhook_page(request, webhook, secret=secret)
        elif action == "test":
            services.webhook_send_test(actor=user, webhook=webhook)
            messages.success(request, "Test event sent; its delivery shows below.")
        elif action == "delete":
            services.webhook_delete(actor=user, webhook=webhook)
            messages.success(request, f"Webhook “{webhook.name}” deleted.")
            return redirect("core:webhooks")
        else:
            raise Http404("No such webhook action.")
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("core:webhook_detail", pk=webhook.pk)
