"""Errors raised by the ingest parsers.

Every parser validates the whole input, collects every problem it finds and raises a single
:class:`ParseError` at the end, so a caller can refuse a malformed file before writing anything.
"""

from __future__ import annotations

MAX_ERRORS_IN_MESSAGE = 20


class ParseError(Exception):
    """A file failed to parse.

    ``errors`` is a list of ``(line_number, message)`` pairs in input order. Line numbers are
    1-based physical lines of the input (for CSV, the header is line 1). ``line_number`` is
    ``None`` only for problems that belong to no single line (e.g. the structure of a JSON
    document), in which case the message names the JSON path.
    """

    def __init__(self, errors: list[tuple[int | None, str]], source: str = ""):
        if not errors:
            raise ValueError("ParseError needs at least one error")
        self.errors = list(errors)
        self.source = source
        super().__init__(self._message())

    @property
    def line_numbers(self) -> list[int | None]:
        return [line for line, _ in self.errors]

    def _message(self) -> str:
        head = f"{self.source}: " if self.source else ""
        shown = [
            (f"line {line}: {msg}" if line is not None else msg)
            for line, msg in self.errors[:MAX_ERRORS_IN_MESSAGE]
        ]
        more = len(self.errors) - len(shown)
        tail = f"; … and {more} more" if more > 0 else ""
        count = len(self.errors)
        return f"{head}{count} error{'s' if count != 1 else ''}: " + "; ".join(shown) + tail


class ErrorCollector:
    """Accumulates ``(line, message)`` pairs and raises them together."""

    def __init__(self, source: str = ""):
        self.source = source
        self.errors: list[tuple[int | None, str]] = []

    def add(self, line: int | None, message: str) -> None:
        self.errors.append((line, message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ParseError(self.errors, source=self.source)
