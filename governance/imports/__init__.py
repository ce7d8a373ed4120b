"""Imports: bulk import of an existing AI inventory (issue 8), files in, initiatives out.

Layout (one concept, one place):
- ``reader``: bytes of a CSV (any of UTF-8 with or without BOM, Windows-1252) or XLSX file →
  a table of headers and (line number, cells); cells trimmed, inner line breaks kept as
  spaces, empty rows dropped.
- ``fields``: the Keel fields a column can map to, each with its parser (dates in several
  formats, enumerations through synonym tables, yes/no, people, business units).
- ``presets``: the built-in ``keel`` (Keel's own export, round-trips losslessly) and
  ``us-federal-2024`` (OMB 2024 AI use-case inventory) presets and ``suggest_mapping``.
- ``federal``: the OMB 2024 column names, shared by the import preset and the export.
- ``engine``: mapping + options → a plan (create / update / skip / reject per row, with the
  line and the reason), over what ``context`` loads in bulk (units, people, models, matched
  initiatives); ``plan``: the plan's shape and the field groups; ``apply``: its application
  in one transaction.

``services`` is the service layer the UI, the API, the Celery task and
``manage.py import_inventory`` call.
"""
