"""List endpoints page by id: ``?limit=&starting_after=``; ids sort by creation time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from tongbao.merchants.merchant_service import Page

T = TypeVar("T")


def page_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: Annotated[str | None, Query(max_length=40)] = None,
) -> Page:
    # One more than asked, to tell whether there is a next page.
    return Page(limit=limit + 1, starting_after=starting_after)


PageDep = Annotated[Page, Depends(page_params)]


def cut(rows: Sequence[T], page: Page) -> tuple[list[T], bool]:
    wanted = page.limit - 1
    return list(rows[:wanted]), len(rows) > wanted
