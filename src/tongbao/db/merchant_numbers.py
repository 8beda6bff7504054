"""A merchant's own number for a request (``out_trade_no``, ``out_refund_no``) names one request per
app: the same number again is the same request if its fields are the same, and a conflict if not."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import table_of
from tongbao.errors import Conflict


@functools.cache
def _lookup(model: Any, number_field: str) -> Select[Any]:
    """Built once per kind of request (the hot path of every creation): only its values vary."""
    table = table_of(model)
    return select(table.c.id, table.c.fingerprint).where(
        table.c.app_id == bindparam("app_id"), table.c[number_field] == bindparam("number")
    )


async def earlier_request(
    tx: AsyncSession, model: Any, number_field: str, *, app_id: str, number: str, fingerprint: str, what: str
) -> str | None:
    """The id of the app's earlier request under ``number``; None if there is none. ``model`` has
    ``id``, ``app_id``, ``fingerprint`` and the ``number_field`` column."""
    row = (await tx.execute(_lookup(model, number_field), {"app_id": app_id, "number": number})).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise Conflict(
            f"{number_field} was used for a {what} with other parameters",
            code=f"{number_field}_reused",
            param=number_field,
        )
    return str(row.id)
