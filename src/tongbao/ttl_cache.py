"""A small per-process cache whose entries end at a time of their own, and all at once when the rows
they were read from change in this process (``invalidate``).

Other processes learn of a change when their entries end, so whatever is kept here must be safe to
use for that long after a change (the time is a setting, a few seconds by default).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_generation = 0


def invalidate() -> None:
    """Every cache in the process forgets everything (called when a cached kind of row is written)."""
    global _generation
    _generation += 1


class TtlCache(Generic[K, V]):
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl = timedelta(seconds=ttl_s)
        self.max_entries = max_entries
        self._entries: dict[K, tuple[V, datetime, int]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0)

    def get(self, key: K, now: datetime) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, until, generation = entry
        if now >= until or generation != _generation:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V, now: datetime, ends_by: datetime | None = None) -> None:
        """Keeps ``value`` for the cache's time, or until ``ends_by`` if that comes first."""
        if not self.enabled:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        until = now + self.ttl if ends_by is None else min(now + self.ttl, ends_by)
        self._entries[key] = (value, until, _generation)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)
