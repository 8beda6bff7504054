"""Request validation failures in Tongbao's own words: the field at fault and what it must be.

The framework reports each failure as ``{type, loc, msg, ctx}``; its ``msg`` is written for Python
developers and changes between versions, so clients get a sentence built here from ``type`` and
``ctx`` instead, and ``param`` names the field as a dotted path (``credentials.apiv3_key``,
``ip_allowlist.0``). A failure of the body as a whole names ``body``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from tongbao.api.fields import OWN_CODE

_LOCATIONS: Final = ("body", "query", "path", "header", "cookie")

_VALIDATION_CODES: Final = {"missing": "parameter_missing", "extra_forbidden": "parameter_unknown"}


@dataclass(frozen=True)
class Refusal:
    code: str
    param: str
    message: str


def param_of(loc: tuple[Any, ...]) -> str:
    """("body", "credentials", "apiv3_key") -> "credentials.apiv3_key"; ("body",) -> "body"."""
    # A mapping's key is reported at (…, key, "[key]"): the key itself names the field.
    parts = [str(p) for p in loc if p != "[key]"]
    if parts and parts[0] in _LOCATIONS:
        return ".".join(parts[1:]) or parts[0]
    return ".".join(parts) or "body"


def _chars(n: object) -> str:
    return "1 character" if n == 1 else f"{n} characters"


def _items(n: object) -> str:
    return "1 item" if n == 1 else f"{n} items"


def _too_short(ctx: Mapping[str, Any]) -> str:
    n = ctx.get("min_length")
    return "must not be empty" if n == 1 else f"must be at least {_chars(n)}"


_PHRASES: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "missing": lambda ctx: "is required",
    "extra_forbidden": lambda ctx: "is not a field of this request",
    "int_type": lambda ctx: "must be an integer",
    "int_parsing": lambda ctx: "must be an integer",
    "int_from_float": lambda ctx: "must be an integer",
    "float_type": lambda ctx: "must be a number",
    "float_parsing": lambda ctx: "must be a number",
    "string_type": lambda ctx: "must be a string",
    "bool_type": lambda ctx: "must be true or false",
    "bool_parsing": lambda ctx: "must be true or false",
    "dict_type": lambda ctx: "must be an object",
    "model_type": lambda ctx: "must be an object",
    "model_attributes_type": lambda ctx: "must be an object",
    "list_type": lambda ctx: "must be a list",
    "none_required": lambda ctx: "must be null",
    "string_too_short": _too_short,
    "string_too_long": lambda ctx: f"must be at most {_chars(ctx.get('max_length'))}",
    "too_short": lambda ctx: f"must have at least {_items(ctx.get('min_length'))}",
    "too_long": lambda ctx: f"must have at most {_items(ctx.get('max_length'))}",
    "greater_than": lambda ctx: f"must be greater than {ctx.get('gt')}",
    "greater_than_equal": lambda ctx: f"must be at least {ctx.get('ge')}",
    "less_than": lambda ctx: f"must be less than {ctx.get('lt')}",
    "less_than_equal": lambda ctx: f"must be at most {ctx.get('le')}",
    "literal_error": lambda ctx: f"must be one of {ctx.get('expected')}",
    "enum": lambda ctx: f"must be one of {ctx.get('expected')}",
    "string_pattern_mismatch": lambda ctx: "is not in the expected format",
    # Our own validators raise ValueError with a phrase such as "must not contain NUL characters".
    "value_error": lambda ctx: str(ctx.get("error") or "is invalid"),
}


def _whole_body(kind: str) -> str:
    if kind == "missing":
        return "the body is required: send a JSON object"
    return "the body must be a JSON object"


def refusal(error: Mapping[str, Any]) -> Refusal:
    """The code, param and message for one validation failure."""
    kind = str(error.get("type", ""))
    loc = tuple(error.get("loc", ()))
    param = param_of(loc)
    ctx = error.get("ctx") or {}
    if OWN_CODE in ctx:  # a field's own code and sentence (tongbao.api.fields.refused)
        return Refusal(str(ctx[OWN_CODE]), param, str(error.get("msg", "")))
    code = _VALIDATION_CODES.get(kind, "parameter_invalid")
    if param == "body" and len(loc) <= 1:
        return Refusal(code, param, _whole_body(kind))
    phrase = _PHRASES.get(kind)
    return Refusal(code, param, f"{param} {phrase(ctx) if phrase else 'is invalid'}")
