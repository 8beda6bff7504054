"""Alembic, driven from code: ``tongbao db upgrade`` and the checks the server makes at start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from tongbao.db.engine import PoolOptions

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str, pool: PoolOptions | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url
    cfg.attributes["pool"] = pool
    return cfg


def upgrade(url: str, revision: str = "head", pool: PoolOptions | None = None) -> None:
    """``pool`` shapes the connection as the processes' own (e.g. behind PgBouncer)."""
    command.upgrade(alembic_config(url, pool), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config(""))
    head = script.get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
