"""SCIM 2.0 provisioning (issue 18, item 2), against the real ``/scim/v2/`` endpoints with
Django's test client and the request bodies the publishers document, verbatim where the ids
allow (a resource's id is Keel's, so where a body names one, the test gives the person that id
or puts the created one in its place):

- RFC 7644 §3.3 (create a User), §3.5.2.1 (add members), §3.5.2.2 (remove a member by
  ``members[value eq "…"]``) and RFC 7643 §8.4 (a Group with members);
- Microsoft Entra ID's "Develop a SCIM endpoint" request examples (create a User with the
  enterprise extension, ``filter=userName eq "Test_User_…"``, create a Group, PATCH Add
  member) and its "Known issues … SCIM 2.0 protocol compliance" page (PATCH ``"Replace"``
  ``active`` ``"False"``, replace several attributes with and without the
  ``aadOptscim062020`` flag, remove a member both ways);
- Okta's "SCIM 2.0 Protocol Reference" (create, paged filter, PUT, PATCH ``replace`` with
  ``{"active": false}`` and no path, Push Groups: create, add member, rename with the id in the
  value).
"""
