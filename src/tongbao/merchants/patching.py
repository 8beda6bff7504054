"""What a PATCH changes: a field left out stays, an explicit null clears an optional field (and is
refused for a required one), and a value equal to the stored one is no change at all."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from tongbao.errors import InvalidRequest


def refuse_nulls(fields: Mapping[str, Any], required: Collection[str]) -> None:
    for name in sorted(required):
        if name in fields and fields[name] is None:
            raise InvalidRequest(f"{name} is required and cannot be null", param=name)


def changes(row: object, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose values differ from the row's, so that a no-op leaves ``updated_at`` alone."""
    return {name: value for name, value in fields.items() if getattr(row, name) != value}
