"""SCIM 2.0 filters and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2), parsed into a small
tree that ``core.scim`` turns into a query or evaluates on a multi-valued attribute.

Grammar (precedence ``not`` > ``and`` > ``or``; keywords and attribute names in any case)::

    filter    = term *("or" term)          term = factor *("and" factor)
    factor    = "not" "(" filter ")" / "(" filter ")" / attrExp / valuePath
    attrExp   = attrPath "pr" / attrPath compareOp compValue
    valuePath = attrPath "[" filter "]" ["." subAttr compareOp compValue]
    path      = attrPath / attrPath "[" filter "]" ["." subAttr]        (PATCH "path")

``valuePath`` followed by ``.subAttr op value`` is not in the RFC's grammar but is what
Microsoft Entra ID sends when users are matched on ``emails[type eq "work"].value``.
Anything else is refused with ``FilterError`` (the caller answers 400 ``invalidFilter`` or
``invalidPath``): a filter Keel cannot read must never widen a search.
"""

import json
import re
from dataclasses import dataclass

OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"})
# Schema URNs an attribute may be prefixed with (``urn:…:User:userName``).
SCHEMA_URNS = (
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w:.])
    | (?P<name>[A-Za-z$][\w$:.-]*)
    | (?P<sub>\.[A-Za-z$][\w$-]*)
    | (?P<punct>[()\[\]])
    )""",
    re.VERBOSE,
)


class FilterError(ValueError):
    """The filter or path cannot be read; the message says where."""


@dataclass(frozen=True)
class AttrPath:
    """``uri`` (a schema URN or ""), ``attr`` and ``sub`` (or ""), as written."""

    uri: str
    attr: str
    sub: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.attr.lower(), self.sub.lower()


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str  # one of OPERATORS, lower case
    value: object = None  # str, int, float, bool or None (JSON literal)


@dataclass(frozen=True)
class And:
    left: object
    right: object


@dataclass(frozen=True)
class Or:
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    expr: object


@dataclass(frozen=True)
class ValuePath:
    """``attr[filter]``: the filter's attributes are sub-attributes of ``path``; with
    ``then``, also ``path.<then.path.attr> <op> <value>`` on the same value (Entra)."""

    path: AttrPath
    filter: object
    then: Compare | None = None


@dataclass(frozen=True)
class PatchPath:
    """A PATCH ``path``: the attribute, an optional value filter and sub-attribute."""

    path: AttrPath
    filter: object = None
    sub: str = ""


def split_attr(text: str) -> AttrPath:
    """``urn:…:User:name.givenName`` → AttrPath(urn, "name", "givenName"); a schema URN alone
    (a PATCH value keyed by the extension) → AttrPath(urn, "")."""
    lowered = text.lower()
    uri = ""
    for urn in SCHEMA_URNS:
        if lowered == urn.lower():
            return AttrPath(uri=urn, attr="")
        if lowered.startswith(urn.lower() + ":"):
            uri, text = urn, text[len(urn) + 1 :]
            break
    else:
        if lowered.startswith("urn:"):
            uri, _, text = text.rpartition(":")
    attr, _, sub = text.partition(".")
    if not re.fullmatch(r"[A-Za-z$][\w$-]*", attr) or (
        sub and not re.fullmatch(r"[A-Za-z$][\w$-]*", sub)
    ):
        raise FilterError(f"{text!r} is not an attribute name.")
    return AttrPath(uri=uri, attr=attr, sub=sub)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"Unexpected {text[position:].strip()[:20]!r}.")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, ahead: int = 0):
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        if token[0] is None:
            raise FilterError("The filter ends too early.")
        self.at += 1
        return token

    def expect(self, punct: str) -> None:
        kind, value = self.take()
        if kind != "punct" or value != punct:
            raise FilterError(f"Expected {punct!r}, found {value!r}.")

    def is_word(self, word: str, ahead: int = 0) -> bool:
        kind, value = self.peek(ahead)
        return kind == "name" and value.lower() == word

    def done(self) -> None:
        if self.peek()[0] is not None:
            raise FilterError(f"Unexpected {self.peek()[1]!r}.")

    def filter(self):
        expr = self.term()
        while self.is_word("or"):
            self.take()
            expr = Or(expr, self.term())
        return expr

    def term(self):
        expr = self.factor()
        while self.is_word("and"):
            self.take()
            expr = And(expr, self.factor())
        return expr

    def factor(self):
        kind, value = self.peek()
        if self.is_word("not") and self.peek(1) == ("punct", "("):
            self.take()
            self.expect("(")
            expr = self.filter()
            self.expect(")")
            return Not(expr)
        if (kind, value) == ("punct", "("):
            self.take()
            expr = self.filter()
            self.expect(")")
            return expr
        if kind != "name":
            raise FilterError(f"Expected an attribute, found {value!r}.")
        self.take()
        path = split_attr(value)
        if self.peek() == ("punct", "["):
            self.take()
            inner = self.filter()
            self.expect("]")
            then = None
            if self.peek()[0] == "sub":
                sub = self.take()[1][1:]
                then = self.comparison(AttrPath(uri="", attr=sub))
            return ValuePath(path=path, filter=inner, then=then)
        return self.comparison(path)

    def comparison(self, path: AttrPath) -> Compare:
        kind, op = self.take()
        op = (op or "").lower()
        if kind != "name" or op not in OPERATORS:
            raise FilterError(f"Expected an operator after {path.attr!r}, found {op!r}.")
        if op == "pr":
            return Compare(path=path, op="pr")
        kind, raw = self.take()
        if kind == "string":
            try:
                value = json.loads(raw)
            except ValueError:
                raise FilterError(f"Bad string {raw}.") from None
        elif kind == "number":
            value = json.loads(raw)
        elif kind == "name" and raw.lower() in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[raw.lower()]
        else:
            raise FilterError(f"Expected a value after {op!r}, found {raw!r}.")
        return Compare(path=path, op=op, value=value)


def parse_filter(text: str):
    """The tree of a ``filter=`` expression; ``FilterError`` when it cannot be read."""
    if not (text or "").strip():
        raise FilterError("The filter is empty.")
    parser = _Parser(text)
    expr = parser.filter()
    parser.done()
    return expr


def parse_path(text: str) -> PatchPath:
    """A PATCH operation's ``path``; ``FilterError`` when it cannot be read."""
    text = (text or "").strip()
    if not text:
        raise FilterError("The path is empty.")
    bracket = text.find("[")
    if bracket < 0:
        return PatchPath(path=split_attr(text))
    closing = text.rfind("]")
    if closing < bracket:
        raise FilterError(f"Unclosed '[' in {text!r}.")
    path = split_attr(text[:bracket])
    rest = text[closing + 1 :]
    if rest and not re.fullmatch(r"\.[A-Za-z$][\w$-]*", rest):
        raise FilterError(f"Unexpected {rest!r} after the value filter.")
    return PatchPath(path=path, filter=parse_filter(text[bracket + 1 : closing]), sub=rest[1:])


def _text(value) -> str:
    return "" if value is None else str(value).lower()


def matches(expr, item: dict) -> bool:
    """Whether one value of a multi-valued attribute (``item``: sub-attribute → value, keys in
    lower case) satisfies ``expr``, e.g. ``value eq "…"`` on a group member. Strings compare
    case-insensitively except ``value`` (an id)."""
    if isinstance(expr, And):
        return matches(expr.left, item) and matches(expr.right, item)
    if isinstance(expr, Or):
        return matches(expr.left, item) or matches(expr.right, item)
    if isinstance(expr, Not):
        return not matches(expr.expr, item)
    if not isinstance(expr, Compare) or expr.path.sub:
        raise FilterError("Only sub-attribute comparisons are allowed inside [ ].")
    name = expr.path.attr.lower()
    if name not in item:
        raise FilterError(f"{expr.path.attr!r} is not a sub-attribute here.")
    held, wanted = item[name], expr.value
    if expr.op == "pr":
        return held not in (None, "", [])
    if isinstance(held, bool) or isinstance(wanted, bool):
        if expr.op not in ("eq", "ne"):
            raise FilterError(f"{expr.op!r} does not compare booleans.")
        return (held == wanted) == (expr.op == "eq")
    if name == "value":
        held, wanted = "" if held is None else str(held), "" if wanted is None else str(wanted)
    else:
        held, wanted = _text(held), _text(wanted)
    return {
        "eq": held == wanted,
        "ne": held != wanted,
        "co": wanted in held,
        "sw": held.startswith(wanted),
        "ew": held.endswith(wanted),
        "gt": held > wanted,
        "ge": held >= wanted,
        "lt": held < wanted,
        "le": held <= wanted,
    }[expr.op]
