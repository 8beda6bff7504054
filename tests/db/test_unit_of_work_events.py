"""Domain events published in a transaction are handled when it commits, inside it: what a handler
writes lands with its cause, a handler that fails takes its cause down with it, and a transaction
that is not committed triggers nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.stack import Stack
from tongbao.db.uow import EventHandlers, UnitOfWork, publish
from tongbao.events import DomainEvent
from tongbao.jobs import queue

from ..jobs.rows import rows


@dataclass(frozen=True, kw_only=True)
class Happened(DomainEvent):
    name: str


@dataclass(frozen=True, kw_only=True)
class Followed(DomainEvent):
    name: str


def _uow(tongbao: Stack, handlers: EventHandlers) -> UnitOfWork:
    return tongbao.container.uow.with_handlers(handlers)


def test_a_handlers_writes_commit_with_their_cause_and_its_own_events_are_handled_too(tongbao: Stack) -> None:
    c = tongbao.container
    handlers = EventHandlers()

    async def on_happened(tx: AsyncSession, event: Happened) -> None:
        await queue.enqueue(tx, "test.handled", {"name": event.name}, now=event.at)
        publish(tx, [Followed(at=event.at, name=event.name + "+")])

    async def on_followed(tx: AsyncSession, event: Followed) -> None:
        await queue.enqueue(tx, "test.followed", {"name": event.name}, now=event.at)

    handlers.on(Happened, on_happened)
    handlers.on(Followed, on_followed)
    uow = _uow(tongbao, handlers)

    async def scenario() -> None:
        async with uow() as tx:
            await queue.enqueue(tx, "test.cause", {}, now=c.clock.now())
            publish(tx, [Happened(at=c.clock.now(), name="a")])
            await tx.commit()
        kinds = [(j.kind, j.payload) for j in await rows(c)]
        assert kinds == [
            ("test.cause", {}),
            ("test.handled", {"name": "a"}),
            ("test.followed", {"name": "a+"}),
        ]

    tongbao.server.run(scenario())


def test_a_failing_handler_rolls_its_cause_back(tongbao: Stack) -> None:
    c = tongbao.container
    handlers = EventHandlers()

    async def broken(tx: AsyncSession, event: Happened) -> None:
        await queue.enqueue(tx, "test.handled", {}, now=event.at)
        raise RuntimeError("the handler broke")

    handlers.on(Happened, broken)
    uow = _uow(tongbao, handlers)

    async def scenario() -> None:
        with pytest.raises(RuntimeError):
            async with uow() as tx:
                await queue.enqueue(tx, "test.cause", {}, now=c.clock.now())
                publish(tx, [Happened(at=c.clock.now(), name="a")])
                await tx.commit()
        assert await rows(c) == []

    tongbao.server.run(scenario())


def test_events_of_work_not_committed_or_rolled_back_trigger_nothing(
    tongbao: Stack,
) -> None:
    c = tongbao.container
    handled: list[str] = []
    handlers = EventHandlers()

    async def note(tx: AsyncSession, event: Happened) -> None:
        handled.append(event.name)

    handlers.on(Happened, note)
    uow = _uow(tongbao, handlers)

    async def scenario() -> None:
        async with uow() as tx:
            publish(tx, [Happened(at=c.clock.now(), name="lost")])
        async with uow() as tx:
            await tx.commit()
        async with uow() as tx:  # rolled back, then the session goes on and commits other work
            publish(tx, [Happened(at=c.clock.now(), name="undone")])
            await tx.rollback()
            publish(tx, [Happened(at=c.clock.now(), name="kept")])
            await tx.commit()
        assert handled == ["kept"]

    tongbao.server.run(scenario())
