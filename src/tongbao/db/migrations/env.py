"""Alembic environment: async engines, batch mode so SQLite and PostgreSQL run the same scripts."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tongbao.db.engine import make_engine
from tongbao.db.registry import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(config.attributes["url"], config.attributes.get("pool"))
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_async())


_main()
