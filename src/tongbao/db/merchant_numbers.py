"""A merchant's own number for a request (``out_trade_no``, ``out_refund_no``) names one request per
app: the same number again is the same request if its fields are the same, and a conflict if not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.errors import Conflict


async def earlier_request(
    tx: AsyncSession, model: Any, number_field: str, *, app_id: str, number: str, fingerprint: str, what: str
) -> str | None:
    """The id of the app's earlier request under ``number``; None if there is none. ``model`` has
    ``id``, ``app_id``, ``fingerprint`` and the ``number_field`` column."""
    row = (
        await tx.execute(
            select(model.id, model.fingerprint).where(
                model.app_id == app_id, getattr(model, number_field) == number
            )
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise Conflict(
            f"{number_field} was used for a {what} with other parameters",
            code=f"{number_field}_reused",
            param=number_field,
        )
    return str(row.id)
