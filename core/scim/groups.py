"""SCIM Groups (``/Groups``): reads, create, replace, PATCH and delete of directory groups,
each change recomputing the affected people's directory-granted memberships."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch

from core.audit import record_event
from core.models import DirectoryGroup, ScimIdentity
from core.scim.base import (
    GROUP_SCHEMA,
    TEXT_MAX,
    ScimError,
    lower_keys,
    not_found,
    object_of_paths,
    page_bounds,
    parse_uuid,
    patch_operations,
    patch_path,
    require,
    sync_memberships,
    text_value,
)
from core.scim.filter import (
    FilterError,
    PatchPath,
    matches,
)
from core.scim.query import GROUP_FIELDS, filter_q


def _groups(*, members: bool = True):
    groups = DirectoryGroup.objects.all()
    if members:
        people_of = get_user_model().objects.select_related("scim_identity").order_by("pk")
        groups = groups.prefetch_related(Prefetch("members", queryset=people_of))
    return groups


def groups_page(*, actor, filter_text: str = "", start=None, count=None, members: bool = True):
    require(actor)
    start, count = page_bounds(start, count)
    groups = _groups(members=members)
    if filter_text:
        groups = groups.filter(filter_q(filter_text, GROUP_FIELDS, GROUP_SCHEMA)).distinct()
    total = groups.count()
    page = list(groups.order_by("pk")[start - 1 : start - 1 + count]) if count and total else []
    return total, page, start


def group_get(*, actor, scim_id, members: bool = True) -> DirectoryGroup:
    require(actor)
    wanted = parse_uuid(scim_id)
    group = _groups(members=members).filter(scim_id=wanted).first() if wanted else None
    if group is None:
        raise not_found("Group", scim_id)
    return group


# --- Groups ----------------------------------------------------------------------------------


def _member_ids(value) -> dict[int, str]:
    """{user pk: username} of the members a value names (``[{"value": "<SCIM id>"}, …]``);
    400 ``invalidValue`` for an id Keel does not know."""
    if value is None:
        return {}
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ScimError("members must be a list.", scim_type="invalidValue")
    wanted = {}
    for entry in value:
        raw = lower_keys(entry, "A member").get("value")
        wanted[str(raw)] = parse_uuid(raw)
    unknown = sorted(raw for raw, parsed in wanted.items() if parsed is None)
    found = dict(
        ScimIdentity.objects.filter(
            scim_id__in=[parsed for parsed in wanted.values() if parsed]
        ).values_list("scim_id", "user_id")
    )
    unknown += sorted(raw for raw, parsed in wanted.items() if parsed and parsed not in found)
    if unknown:
        raise ScimError(f"No user with id {', '.join(unknown)}.", scim_type="invalidValue")
    return dict(
        get_user_model().objects.filter(pk__in=found.values()).values_list("pk", "username")
    )


def _display_name(value) -> str:
    name = text_value(value, "displayName", limit=TEXT_MAX)
    if not name:
        raise ScimError("displayName is required.", scim_type="invalidValue")
    return name


def _unique_group(name: str, *, exclude=None) -> None:
    others = DirectoryGroup.objects.filter(display_name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ScimError(
            f"A group named {name!r} exists: group mappings name groups, so names are unique.",
            status=409,
            scim_type="uniqueness",
        )


def group_create(*, actor, body) -> DirectoryGroup:
    """``POST /Groups`` (with or without members): the group, its members' mapped roles and
    a ``scim.group_created`` event. 409 ``uniqueness`` for a name taken (in any case)."""
    require(actor)
    data = lower_keys(body, "The body")
    name = _display_name(data.get("displayname"))
    external_id = text_value(data.get("externalid"), "externalId", limit=TEXT_MAX)
    with transaction.atomic():
        members = _member_ids(data.get("members"))
        _unique_group(name)
        group = DirectoryGroup.objects.create(display_name=name, external_id=external_id)
        group.members.add(*members)
        record_event(
            actor=actor,
            action="scim.group_created",
            target=group,
            after={
                "display_name": name,
                "external_id": external_id,
                "members": sorted(members.values()),
            },
        )
        sync_memberships(members)
    return group


def _write_group(*, actor, group, name: str, external_id: str, members: dict[int, str]) -> None:
    """Make the (locked) group what is given; one ``scim.group_updated`` event; the roles of
    everyone who joined or left (everyone, after a rename) recomputed."""
    held = dict(group.members.values_list("pk", "username"))
    added = {pk: u for pk, u in members.items() if pk not in held}
    removed = {pk: u for pk, u in held.items() if pk not in members}
    renamed = name != group.display_name
    before = {"display_name": group.display_name, "external_id": group.external_id}
    if renamed:
        _unique_group(name, exclude=group)
    if not (added or removed or renamed or external_id != group.external_id):
        return
    group.display_name, group.external_id = name, external_id
    group.save(update_fields=["display_name", "external_id", "updated_at"])
    group.members.remove(*removed)
    group.members.add(*added)
    record_event(
        actor=actor,
        action="scim.group_updated",
        target=group,
        before=before,
        after={
            "display_name": name,
            "external_id": external_id,
            "members_added": sorted(added.values()),
            "members_removed": sorted(removed.values()),
        },
    )
    sync_memberships(set(held) | set(members) if renamed else set(added) | set(removed))


def group_replace(*, actor, group, body) -> None:
    """``PUT /Groups/{id}``: name, externalId and members as sent (members left out: none)."""
    require(actor)
    data = lower_keys(body, "The body")
    name = _display_name(data.get("displayname"))
    external_id = text_value(data.get("externalid"), "externalId", limit=TEXT_MAX)
    with transaction.atomic():
        locked = DirectoryGroup.objects.select_for_update().get(pk=group.pk)
        members = _member_ids(data.get("members"))
        _write_group(actor=actor, group=locked, name=name, external_id=external_id, members=members)


def group_patch(*, actor, group, operations) -> None:
    """``PATCH /Groups/{id}``: members added, removed (by a list, as Entra sends it without
    its flag, or by ``members[value eq "…"]``) or replaced; displayName and externalId
    replaced (Okta sends them with the group's own id in the value)."""
    require(actor)
    with transaction.atomic():
        locked = DirectoryGroup.objects.select_for_update().get(pk=group.pk)
        name, external_id = locked.display_name, locked.external_id
        members = dict(locked.members.values_list("pk", "username"))
        for kind, path, value in patch_operations(operations):
            if path is None:
                items = [(patch_path(key), item) for key, item in object_of_paths(value).items()]
            else:
                items = [(path, value)]
            for target, item in items:
                attr, sub = target.path.key
                if target.path.uri and target.path.uri.lower() != GROUP_SCHEMA.lower():
                    raise ScimError(f"Unknown schema {target.path.uri!r}.", scim_type="invalidPath")
                if attr == "members" and not sub:
                    members = _patch_members(locked, members, kind, target, item)
                elif (attr, sub) == ("displayname", ""):
                    if kind == "remove":
                        raise ScimError("displayName cannot be removed.", scim_type="invalidValue")
                    name = _display_name(item)
                elif (attr, sub) == ("externalid", ""):
                    external_id = (
                        "" if kind == "remove" else text_value(item, "externalId", limit=TEXT_MAX)
                    )
                elif (attr, sub) == ("id", "") and str(item) == str(locked.scim_id):
                    continue
                elif attr in ("id", "meta"):
                    raise ScimError(f"{target.path.attr} is read-only.", scim_type="mutability")
                elif attr == "schemas":
                    continue
                else:
                    raise ScimError(
                        f"Unknown attribute {target.path.attr!r}.", scim_type="invalidPath"
                    )
        _write_group(actor=actor, group=locked, name=name, external_id=external_id, members=members)


def _patch_members(group, members: dict, kind: str, target: PatchPath, value) -> dict:
    if target.filter is not None:
        if kind != "remove" or target.sub:
            raise ScimError("A filtered members path is only removed.", scim_type="invalidPath")
        ids = dict(ScimIdentity.objects.filter(user__in=members).values_list("user_id", "scim_id"))
        try:
            return {
                pk: username
                for pk, username in members.items()
                if not matches(
                    target.filter,
                    {"value": str(ids.get(pk, "")), "display": username, "type": "User"},
                )
            }
        except FilterError as error:
            raise ScimError(f"Invalid path: {error}", scim_type="invalidPath") from None
    if kind == "remove":
        if value in (None, [], {}):
            return {}
        named = _member_ids(value)
        return {pk: u for pk, u in members.items() if pk not in named}
    named = _member_ids(value)
    return named if kind == "replace" else {**members, **named}


def group_delete(*, actor, group) -> None:
    """``DELETE /Groups/{id}``: the group goes; its former members' roles are recomputed."""
    require(actor)
    with transaction.atomic():
        locked = DirectoryGroup.objects.select_for_update().get(pk=group.pk)
        members = dict(locked.members.values_list("pk", "username"))
        record_event(
            actor=actor,
            action="scim.group_deleted",
            target=locked,
            before={
                "display_name": locked.display_name,
                "external_id": locked.external_id,
                "members": sorted(members.values()),
            },
        )
        locked.delete()
        sync_memberships(members)
