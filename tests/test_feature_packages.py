"""Each feature package names its public modules in ``__all__``; code outside the feature (the
rest of the package and the tests) imports only those, so a feature's own helpers can change
without anyone else noticing."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tongbao"
FEATURES = ("payments", "refunds", "cases", "merchants", "notify", "jobs", "ledger")


def _imports_into(feature: str) -> list[tuple[str, str]]:
    """(file, module) for every ``from tongbao.<feature>.<module> import …`` outside the feature."""
    found: list[tuple[str, str]] = []
    files = [*SRC.rglob("*.py"), *(SRC.parents[1] / "tests").rglob("*.py")]
    for path in files:
        if SRC / feature in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[:2] == ["tongbao", feature]:
                    names = [parts[2]] if len(parts) > 2 else [a.name for a in node.names]
                    found += [(str(path.relative_to(SRC.parents[1])), name) for name in names]
    return found


@pytest.mark.parametrize("feature", FEATURES)
def test_code_outside_a_feature_imports_only_its_public_modules(feature: str) -> None:
    public = set(importlib.import_module(f"tongbao.{feature}").__all__)
    modules = {p.stem for p in (SRC / feature).glob("*.py")} | {
        p.name for p in (SRC / feature).iterdir() if (p / "__init__.py").exists()
    }
    assert public <= modules, public - modules  # __all__ names what exists
    private = [(where, name) for where, name in _imports_into(feature) if name not in public]
    assert private == [], f"tongbao.{feature}'s own modules imported from outside: {private}"
