"""Rows of the initiative register in the two interchange formats (the inverse of the import
presets): ``keel`` (every field the importer reads, lossless) and ``us-federal-2024`` (the
OMB 2024 columns). Exports and the round-trip tests use these; so does nothing else.

CONTRACT: ``keel_header() -> list[str]``; ``keel_rows(initiatives) -> Iterator[list]``;
``federal_header() -> list[str]``; ``federal_rows(initiatives) -> Iterator[list]``.
``initiatives`` is a queryset (already scoped and filtered by the caller); the functions
add the select_related/prefetch_related they need and never query per row.
"""
