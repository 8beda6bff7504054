"""The migrations build exactly the tables the code declares, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tongbao.db import migrate
from tongbao.db.engine import make_engine
from tongbao.db.registry import metadata

from ..support.databases import backends, throwaway_database


def _inspect(url: str) -> tuple[list[object], set[str]]:
    def look(conn: Connection) -> tuple[list[object], set[str]]:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        return diff, set(inspect(conn).get_table_names())

    async def go() -> tuple[list[object], set[str]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.mark.parametrize("backend", backends())
def test_upgrade_matches_the_models_and_downgrade_undoes_it(backend: str, tmp_path: Path) -> None:
    with throwaway_database(backend, tmp_path) as url:
        migrate.upgrade(url)
        diff, tables = _inspect(url)
        assert diff == []
        assert set(metadata.tables) <= tables

        migrate.downgrade(url, "base")
        _, tables = _inspect(url)
        assert tables <= {"alembic_version"}

        migrate.upgrade(url)
        diff, _ = _inspect(url)
        assert diff == []
