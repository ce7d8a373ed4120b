"""Generated reports: request a board pack or dossier, follow its progress, download it.
Being built; see ``governance/reports.py``."""

from django.http import Http404


def report_list(request):
    raise Http404


def board_pack_request(request):
    raise Http404


def dossier_request(request, initiative_pk):
    raise Http404


def report_detail(request, pk):
    raise Http404


def report_download(request, pk):
    raise Http404
