"""The dashboard page, its definitions page and its CSV/XLSX exports (thin: the figures
come from ``governance.dashboard``). Being built; see ``governance/dashboard.py``."""

from django.http import Http404


def dashboard_page(request):
    raise Http404


def definitions_page(request):
    raise Http404


def dashboard_export(request, key, fmt):
    raise Http404
