"""The examples of docs/api.md, read from the markdown itself, and a check that an answer looks
as an example shows it.

A block is an example when the line before its fence (blank lines aside) is a tag::

    <!-- example: create-payment -->

Examples are written for people, with ``…`` where a value varies or is left out, so an example
JSON body is read as a pattern:

- ``"pay_01…"``: a string of that shape (each ``…`` stands for any text); ``"…"`` any string;
- an instant written as Tongbao writes them (``2026-11-25T09:29:01.482913Z``) stands for any;
- ``, …}`` or ``{ …the payment… }``: the object may have other keys, else it has exactly these;
- ``[{…}, …]`` or ``[ …items… ]``: other items may follow, else there are exactly these;
- anything else must be equal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"

ELLIPSIS = "…"
_TAG = re.compile(r"^<!-- example: ([a-z0-9-]+) -->\n(?:\n)*```([a-z]*)\n(.*?)^```$", re.M | re.S)
_ANY_TAG = re.compile(r"^<!-- example: (.*?) -->", re.M)
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@dataclass(frozen=True)
class Example:
    name: str
    lang: str
    text: str

    def filled(self, **values: str) -> str:
        """The text with the example's own values swapped for live ones (``{"A1001": "A1001-x"}``)."""
        text = self.text
        for old, new in values.items():
            assert old in text, f"example {self.name!r} no longer holds {old!r}"
            text = text.replace(old, new)
        return text


def examples(path: Path = API_DOC) -> dict[str, Example]:
    text = path.read_text()
    found: dict[str, Example] = {}
    for match in _TAG.finditer(text):
        name = match.group(1)
        assert name not in found, f"two examples are tagged {name!r}"
        found[name] = Example(name, match.group(2), match.group(3))
    tags = _ANY_TAG.findall(text)
    assert sorted(tags) == sorted(found), f"a tag not right before a ``` block: {set(tags) - set(found)}"
    return found


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str


def http_request(text: str) -> Request:
    """``METHOD /path``, then ``Name: value`` header lines, then the body (if any)."""
    first, *rest = text.rstrip("\n").split("\n")
    method, path = first.split(" ", 1)
    headers: dict[str, str] = {}
    while rest and re.fullmatch(r"[A-Za-z-]+: .+", rest[0]):
        name, value = rest.pop(0).split(": ", 1)
        headers[name] = value
    return Request(method, path.strip(), headers, "\n".join(rest).strip())


def json_pattern(text: str) -> Any:
    """The example's JSON with each elision turned into an ``"…"`` key (objects) or item (lists)."""
    out: list[str] = []
    stack: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\":
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch in "{[":
            stack.append(ch)
            out.append(ch)
        elif ch in "}]":
            stack.pop()
            out.append(ch)
        elif ch == ELLIPSIS:
            # "…the payment or refund, as GET shows it…" is prose between two ellipses.
            if i + 1 < len(text) and text[i + 1].isalpha():
                i = text.index(ELLIPSIS, i + 1)
            assert stack, "an elision outside any object or list"
            out.append('"…": "…"' if stack[-1] == "{" else '"…"')
        else:
            out.append(ch)
        i += 1
    return json.loads("".join(out))


def mismatches(actual: Any, pattern: Any, where: str = "$") -> list[str]:
    """Where ``actual`` is not as the example ``pattern`` shows it (empty when it is)."""
    if isinstance(pattern, dict):
        return _object_mismatches(actual, pattern, where)
    if isinstance(pattern, list):
        return _list_mismatches(actual, pattern, where)
    if isinstance(pattern, str) and (ELLIPSIS in pattern or _INSTANT.fullmatch(pattern)):
        if not isinstance(actual, str) or not _shaped(actual, pattern):
            return [f"{where}: {actual!r} is not shaped like {pattern!r}"]
        return []
    if actual != pattern or type(actual) is not type(pattern):
        return [f"{where}: {actual!r}, the example shows {pattern!r}"]
    return []


def _object_mismatches(actual: Any, pattern: dict[str, Any], where: str) -> list[str]:
    if not isinstance(actual, dict):
        return [f"{where}: {actual!r} is not an object"]
    found: list[str] = []
    keys = [k for k in pattern if k != ELLIPSIS]
    found += [f"{where}.{k}: missing" for k in keys if k not in actual]
    if ELLIPSIS not in pattern:
        found += [f"{where}.{k}: not in the example" for k in actual if k not in pattern]
    for k in keys:
        if k in actual:
            found += mismatches(actual[k], pattern[k], f"{where}.{k}")
    return found


def _list_mismatches(actual: Any, pattern: list[Any], where: str) -> list[str]:
    if not isinstance(actual, list):
        return [f"{where}: {actual!r} is not a list"]
    open_ended = bool(pattern) and pattern[-1] == ELLIPSIS
    shown = pattern[:-1] if open_ended else pattern
    if len(actual) < len(shown) or (not open_ended and len(actual) != len(shown)):
        return [f"{where}: {len(actual)} items, the example shows {len(shown)}"]
    return [e for n, p in enumerate(shown) for e in mismatches(actual[n], p, f"{where}[{n}]")]


def _shaped(actual: str, pattern: str) -> bool:
    if _INSTANT.fullmatch(pattern):
        return bool(_INSTANT.fullmatch(actual))
    regex = ".*".join(re.escape(part) for part in pattern.split(ELLIPSIS))
    return bool(re.fullmatch(regex, actual, re.S))
