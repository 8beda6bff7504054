"""On SQLite a transaction reads without blocking anyone and takes the database's write lock at its
first write or row lock: there a second writer waits for the first to finish, and does not fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Integer, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tongbao.db.engine import make_engine, make_sessionmaker


class _Base(DeclarativeBase):
    pass


class Counter(_Base):
    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


async def _engine(path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    return engine


def test_a_reader_that_starts_writing_while_another_writes_waits_and_then_sees_the_newest_row(
    tmp_path: Path,
) -> None:
    async def scene() -> tuple[int, int]:
        engine = await _engine(tmp_path / "w.db")
        sessions = make_sessionmaker(engine)
        try:
            async with sessions() as reader, sessions() as writer:
                assert await reader.scalar(select(Counter.n)) == 0  # a snapshot is held
                await writer.execute(text("UPDATE counter SET n = n + 1"))
                # The reader's first write: SQLite would answer SQLITE_BUSY to its snapshot at once.
                upgrade = asyncio.ensure_future(reader.execute(text("UPDATE counter SET n = n + 10")))
                await asyncio.sleep(0.2)
                assert not upgrade.done()  # waiting for the writer, not failed
                await writer.commit()
                await upgrade
                seen = await reader.scalar(select(Counter.n))
                await reader.commit()
            async with sessions() as tx:
                final = await tx.scalar(select(Counter.n))
            assert seen is not None and final is not None
            return seen, final
        finally:
            await engine.dispose()

    assert asyncio.run(scene()) == (11, 11)


def test_select_for_update_holds_other_writers_until_the_transaction_ends(tmp_path: Path) -> None:
    async def scene() -> list[str]:
        engine = await _engine(tmp_path / "l.db")
        sessions = make_sessionmaker(engine)
        order: list[str] = []
        try:
            async with sessions() as holder, sessions() as other:
                row = await holder.get(Counter, 1, with_for_update=True)
                assert row is not None

                async def write() -> None:
                    await other.execute(text("UPDATE counter SET n = 5"))
                    order.append("other wrote")
                    await other.commit()

                waiting = asyncio.ensure_future(write())
                await asyncio.sleep(0.2)
                order.append("holder commits")
                row.n = 1
                await holder.commit()
                await waiting
        finally:
            await engine.dispose()
        return order

    assert asyncio.run(scene()) == ["holder commits", "other wrote"]
