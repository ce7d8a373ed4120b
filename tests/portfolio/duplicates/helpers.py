"""Helpers shared by the duplicate detection tests (``test_duplicates.py``) and the review
tests (``test_duplicates_review.py``): the CoE's duplicate list page, a signed-in test client,
looking up the candidate of a pair and the audit events of a target."""

from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from portfolio.duplicates.models import DuplicateCandidate
from portfolio.initiatives.models import Initiative

LIST_URL = reverse("portfolio:duplicate_list")


def candidate_for(first: Initiative, second: Initiative) -> DuplicateCandidate:
    low, high = sorted([first.pk, second.pk])
    return DuplicateCandidate.objects.get(first_id=low, second_id=high)


def events(action: str, target=None):
    found = AuditEvent.objects.filter(action=action)
    if target is not None:
        found = found.filter(object_id=str(target.pk))
    return found


def client_for(user):
    client = Client()
    client.force_login(user)
    return client
