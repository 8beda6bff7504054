"""Every error code the API can answer with is listed in docs/api.md, found by reading the source.

The scan follows the error classes rather than a hand-kept list, so a new code raised anywhere in
``src/tongbao`` fails this test until it is documented. Channel adapters and simulators are left
out: their codes are the channels' own wire vocabulary, not Tongbao's.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "tongbao"
API_DOC = ROOT / "docs" / "api.md"
NOT_OURS = ("channels", "simulators")
# A table row of docs/api.md's error tables: | 404 | `payment_not_found` | … |
DOC_ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*`([a-z0-9_]+)`\s*\|", re.MULTILINE)


def _our_modules() -> list[ast.Module]:
    files = [p for p in SOURCE.rglob("*.py") if p.relative_to(SOURCE).parts[0] not in NOT_OURS]
    return [ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(files)]


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _ErrorClass:
    """A class whose instances carry a code: its ``code`` argument's position, its default code."""

    def __init__(self, code_index: int | None, default_code: str | None, bases: list[str]) -> None:
        self.code_index = code_index
        self.default_code = default_code
        self.bases = bases


def _own_code(node: ast.ClassDef) -> tuple[int | None, str | None]:
    """Where the class's own __init__ takes ``code`` (-1: keyword-only), and its ``default_code``."""
    code_index = default = None
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            names = [a.arg for a in item.args.args[1:]] + [a.arg for a in item.args.kwonlyargs]
            if "code" in names:
                positional = [a.arg for a in item.args.args[1:]]
                code_index = positional.index("code") if "code" in positional else -1
        if isinstance(item, ast.Assign) and any(_name(t) == "default_code" for t in item.targets):
            default = _text(item.value)
    return code_index, default


def _error_classes(modules: list[ast.Module]) -> dict[str, _ErrorClass]:
    found: dict[str, _ErrorClass] = {}
    for module in modules:
        for node in ast.walk(module):
            if not isinstance(node, ast.ClassDef):
                continue
            code_index, default = _own_code(node)
            bases = [b for b in (_name(base) for base in node.bases) if b]
            found[node.name] = _ErrorClass(code_index, default, bases)

    def resolve(name: str, seen: frozenset[str] = frozenset()) -> tuple[int | None, str | None]:
        cls = found.get(name)
        if cls is None or name in seen:
            return None, None
        index, default = cls.code_index, cls.default_code
        for base in cls.bases:
            base_index, base_default = resolve(base, seen | {name})
            index = base_index if index is None else index
            default = base_default if default is None else default
        return index, default

    resolved = {name: _ErrorClass(*resolve(name), []) for name in found}
    return {name: cls for name, cls in resolved.items() if cls.code_index is not None}


def _code_of_call(call: ast.Call, cls: _ErrorClass) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "code":
            return _text(keyword.value)  # a computed code was raised literally where it came from
    if cls.code_index is not None and 0 <= cls.code_index < len(call.args):
        return _text(call.args[cls.code_index])
    return cls.default_code


def raised_codes() -> set[str]:
    modules = _our_modules()
    classes = _error_classes(modules)
    codes: set[str] = set()
    for module in modules:
        for owner in [n for n in ast.walk(module) if isinstance(n, ast.ClassDef)]:
            # super().__init__("payment_not_closable", …) inside a subclass of a code-carrying class
            base = next((classes[b] for b in map(_name, owner.bases) if b in classes), None)
            for node in ast.walk(owner):
                if (
                    base is not None
                    and isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "__init__"
                    and isinstance(node.func.value, ast.Call)
                    and _name(node.func.value.func) == "super"
                ):
                    codes.add(_code_of_call(node, base) or "")
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            callee = _name(node.func)
            if callee in classes:
                codes.add(_code_of_call(node, classes[callee]) or "")
            elif callee == "error_response" and len(node.args) > 2:
                codes.add(_text(node.args[2]) or "")
            elif callee == "error_payload" and len(node.args) > 1:
                codes.add(_text(node.args[1]) or "")
        codes |= _code_tables(module)
    codes.discard("")
    return codes


def _code_tables(module: ast.Module) -> set[str]:
    """Codes kept in module-level tables named ``…_CODES`` (HTTP status or error kind -> code),
    and the defaults read from them with ``.get(key, "code")``."""
    tables: set[str] = set()
    codes: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any((_name(t) or "").endswith("_CODES") for t in targets):
                tables.update(_name(t) or "" for t in targets)
                codes.update(v for v in map(_text, node.value.values) if v)
    for node in ast.walk(module):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _name(node.func.value) in tables
            and len(node.args) == 2
        ):
            codes.add(_text(node.args[1]) or "")
    return codes


def documented_codes() -> dict[str, set[int]]:
    listed: dict[str, set[int]] = {}
    for status, code in DOC_ROW.findall(API_DOC.read_text(encoding="utf-8")):
        listed.setdefault(code, set()).add(int(status))
    return listed


def test_the_scan_finds_codes_raised_in_every_way() -> None:
    codes = raised_codes()
    # keyword, default of the class, positional rule code, super().__init__, status table, handler
    for code in (
        "payment_not_found",
        "resource_missing",
        "refund_exceeds_remaining",
        "payment_not_closable",
        "method_not_allowed",
        "body_invalid_json",
        "internal_error",
        "idempotency_key_invalid",
    ):
        assert code in codes, code


def test_every_raised_code_is_documented_in_the_api_guide() -> None:
    missing = sorted(raised_codes() - documented_codes().keys())
    assert missing == [], f"codes raised in src/ but not in docs/api.md's error tables: {missing}"


def test_the_api_guide_lists_no_code_that_is_never_raised() -> None:
    stale = sorted(documented_codes().keys() - raised_codes())
    assert stale == [], f"codes in docs/api.md that nothing raises: {stale}"
