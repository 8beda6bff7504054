"""Walking newest-first lists page by page, and making items that share a creation instant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from .factories import ok
from .stack import Stack

MAX_PAGES = 50


def pages(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following ``next_cursor`` until ``has_more`` is false."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = ok(client.get(path, params={**params, **({"starting_after": cursor} if cursor else {})}))
        assert set(page) == {"data", "has_more", "next_cursor"}
        seen.append(page)
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return seen
        assert page["data"] and isinstance(page["next_cursor"], str)
        cursor = page["next_cursor"]
    raise AssertionError(f"{path} did not end within {MAX_PAGES} pages")


def items(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    return [item for page in pages(client, path, **params) for item in page["data"]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def newest_first(listed: list[dict[str, Any]]) -> list[str]:
    """The ids in the order a list must give them: newest first, ties by id, descending."""
    return [i["id"] for i in sorted(listed, key=lambda i: (at(i["created_at"]), i["id"]), reverse=True)]


@contextmanager
def one_instant(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """Tongbao's clock stands still inside: everything made there has the same ``created_at``."""
    moment = stack.clock.now()
    with monkeypatch.context() as patch:
        patch.setattr(stack.clock, "now", lambda: moment)
        yield moment
