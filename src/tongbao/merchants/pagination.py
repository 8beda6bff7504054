"""How list endpoints page: one pair of parameters, ``?limit=&starting_after=``, answered with
``{"data": [...], "has_more": bool}``.

Configuration (merchants, apps, channel accounts) pages by id, oldest first: ``starting_after`` is
the id of the last item seen (ids sort by creation time). Business records (payments, refunds,
notifications) page newest first by ``(created_at, id)``: ``starting_after`` is the ``next_cursor``
of the page before, an opaque text holding both, so items created in the same instant are neither
skipped nor repeated; these lists filter by a creation range too.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from tongbao.errors import InvalidRequest
from tongbao.merchants.merchant_service import Page

T = TypeVar("T")
Model = TypeVar("Model", bound=BaseModel)
SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: Annotated[str | None, Query(max_length=40)] = None,
) -> Page:
    # One more than asked, to tell whether there is a next page.
    return Page(limit=limit + 1, starting_after=starting_after)


PageDep = Annotated[Page, Depends(page_params)]


def cut(rows: Sequence[T], page: Page) -> tuple[list[T], bool]:
    wanted = page.limit - 1
    return list(rows[:wanted]), len(rows) > wanted


# Newest first, by an opaque cursor.

MAX_LIMIT: Final = 100
DEFAULT_LIMIT: Final = 20
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ID: Final = re.compile(r"[A-Za-z0-9_]{1,40}")


@dataclass(frozen=True)
class Cursor:
    """A place in a newest-first list: the last item seen, by its creation time and id."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return base64.urlsafe_b64encode(f"{micros}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
            micros, _, item_id = raw.partition(".")
            if not (micros.isdigit() and _ID.fullmatch(item_id)):
                raise ValueError(raw)
            return cls(_EPOCH + timedelta(microseconds=int(micros)), item_id)
        except (binascii.Error, ValueError, OverflowError):
            raise InvalidRequest(
                "starting_after: not a cursor of this list; pass the next_cursor of the page before",
                param="starting_after",
            ) from None


@dataclass(frozen=True)
class Window:
    """Which part of a newest-first list a request asks for."""

    limit: int
    after: Cursor | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None


async def window_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    starting_after: Annotated[
        str | None, Query(max_length=200, description="The next_cursor of the page before")
    ] = None,
    created_gte: Annotated[
        AwareDatetime | None, Query(description="Created at or after (ISO-8601 with an offset)")
    ] = None,
    created_lt: Annotated[
        AwareDatetime | None, Query(description="Created before (ISO-8601 with an offset)")
    ] = None,
) -> Window:
    after = None if starting_after is None else Cursor.decode(starting_after)
    return Window(limit, after, created_gte, created_lt)


WindowDep = Annotated[Window, Depends(window_params)]


def newest_first(
    stmt: SelectT,
    created_at: InstrumentedAttribute[datetime],
    item_id: InstrumentedAttribute[str],
    window: Window,
) -> SelectT:
    """The window of ``stmt``, newest first, with one row more than asked to tell if there are more."""
    if window.created_gte is not None:
        stmt = stmt.where(created_at >= window.created_gte)
    if window.created_lt is not None:
        stmt = stmt.where(created_at < window.created_lt)
    if window.after is not None:
        last = window.after
        stmt = stmt.where(
            or_(created_at < last.created_at, and_(created_at == last.created_at, item_id < last.id))
        )
    return stmt.order_by(created_at.desc(), item_id.desc()).limit(window.limit + 1)


@dataclass(frozen=True)
class Slice(Generic[T]):
    rows: list[T]
    has_more: bool
    next_cursor: str | None


def take(rows: Sequence[T], window: Window, place: Callable[[T], Cursor]) -> Slice[T]:
    """The rows ``newest_first`` found, cut to the page, and where the next page starts."""
    kept = list(rows[: window.limit])
    has_more = len(rows) > window.limit
    return Slice(kept, has_more, place(kept[-1]).encode() if has_more else None)


def page_body(data: list[Any], piece: Slice[Any]) -> dict[str, Any]:
    return {"data": data, "has_more": piece.has_more, "next_cursor": piece.next_cursor}


class Listed(BaseModel, Generic[Model]):
    """A page of a newest-first list, for the OpenAPI document: subclass it per item
    (``class PaymentsPublic(Listed[PaymentPublic])``) so that the document names it plainly."""

    data: list[Model]
    has_more: bool
    next_cursor: str | None
