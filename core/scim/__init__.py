"""SCIM 2.0 provisioning (issue 18, item 2): the organisation's directory (Microsoft Entra ID,
Okta, OneLogin, Keycloak…) creates, updates and deactivates people and groups in Keel without
anyone signing in. The endpoints (``core.api.scim``) call the reads and writes here; the token
behind them must be a read-and-write API token of an administrator (``can_provision``).

What the directory may do, and what follows:

- A person: ``userName`` → username (unique regardless of case), the primary (else work, else
  first) email, ``name.givenName``/``familyName``, ``externalId`` (``ScimIdentity``) and
  ``active``. ``active`` false — in a PUT, or a PATCH as Entra (``"Replace"``, the string
  ``"False"``) or Okta (no path, ``{"active": false}``) send it — is the People page's
  deactivation (``core.people.person_set_active``): every session ends and their API tokens
  stop working. DELETE deactivates too and ends the SCIM identity; a person is never deleted
  (the audit trail keeps them). A password sent by the directory is ignored: provisioned people
  sign in through single sign-on.
- The directory may not change a superuser (the break-glass account) nor the token's own
  account (nobody changes their own access).
- A group (``DirectoryGroup``): whenever its name or members change, every affected person's
  directory-granted roles are recomputed from the group mappings
  (``core.directory.memberships_sync``, provider ``scim``), so a mapped role follows at once.

Every write is audited with the token's user as actor (``scim.user_created``,
``scim.user_updated``, ``user.deactivated``/``reactivated``, ``scim.user_deleted``,
``scim.group_created``/``updated``/``deleted``, and ``membership.synced`` per person).
Errors are ``ScimError`` with the HTTP status and the ``scimType`` of RFC 7644 §3.12.
"""
