"""Unit of work: one business event is one transaction.

``async with uow() as tx:`` yields a session inside a transaction; nothing is written unless
``await tx.commit()`` is called. Leaving the block closes the session, which rolls back whatever
was not committed; objects already loaded stay readable (closing detaches, it does not expire).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session
