"""Unit of work: one business event is one transaction.

``async with uow() as tx:`` yields a session inside a transaction; nothing is written unless
``await tx.commit()`` is called. Leaving the block closes the session, which rolls back whatever
was not committed; objects already loaded stay readable (closing detaches, it does not expire).

Domain events published in the transaction (``publish``) are handed to their handlers when it
commits, before the database commit: a handler's writes land with their cause, and a handler that
fails rolls the whole transaction back. Events a handler publishes are handled in the same commit.
A handler that *refuses* (``tongbao.rules.Refused``: the ledger refusing a posting) rolls it back
too, and the refusal, with the event that met it, is reported in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tongbao.events import DomainEvent
from tongbao.rules import Refused

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[AsyncSession, Any], Awaitable[None]]
# Told of a refusal after the refused transaction rolled back: the unit of work, the event, the refusal.
OnRefused = Callable[["UnitOfWork", DomainEvent, Refused], Awaitable[None]]

_PENDING: Final = "tongbao.pending_events"
_HANDLERS: Final = "tongbao.event_handlers"
_UOW: Final = "tongbao.unit_of_work"


class EventHandlers:
    """Which handlers each kind of event has, in the order they were registered."""

    def __init__(self) -> None:
        self._by_kind: dict[type[DomainEvent], list[Handler]] = {}

    def on(self, kind: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
        self._by_kind.setdefault(kind, []).append(handler)

    def of(self, event: DomainEvent) -> list[Handler]:
        return [h for kind in type(event).__mro__ for h in self._by_kind.get(kind, ())]


def publish(tx: AsyncSession, events: list[DomainEvent] | tuple[DomainEvent, ...]) -> None:
    """Records the events of this transaction; their handlers run when it commits."""
    tx.info.setdefault(_PENDING, []).extend(events)


class EventedSession(AsyncSession):
    async def commit(self) -> None:
        handlers: EventHandlers | None = self.info.get(_HANDLERS)
        pending: list[DomainEvent] = self.info.setdefault(_PENDING, [])
        while pending:
            event = pending.pop(0)
            for handler in handlers.of(event) if handlers is not None else ():
                try:
                    await handler(self, event)
                except Refused as refusal:
                    await self.rollback()
                    uow: UnitOfWork | None = self.info.get(_UOW)
                    if uow is not None and uow.on_refused is not None:
                        await uow.on_refused(uow, event, refusal)
                    raise
        await super().commit()

    async def rollback(self) -> None:
        # What the rolled-back work published did not happen.
        self.info.pop(_PENDING, None)
        await super().rollback()


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handlers: EventHandlers | None = None,
        on_refused: OnRefused | None = None,
    ) -> None:
        self._sessions = sessions
        self.handlers = handlers or EventHandlers()
        self.on_refused = on_refused

    def with_handlers(self, handlers: EventHandlers) -> UnitOfWork:
        """The same database, other handlers."""
        return UnitOfWork(self._sessions, handlers, self.on_refused)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            session.info[_HANDLERS] = self.handlers
            session.info[_UOW] = self
            yield session
