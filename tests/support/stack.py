"""One running Tongbao per database backend, emptied before each test that uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete

from tongbao.api.app import create_app
from tongbao.bootstrap import Container, build_container
from tongbao.config import Settings
from tongbao.db import migrate
from tongbao.db.registry import metadata
from tongbao.security.master_key import MasterKey
from tongbao.security.operators import OperatorService
from tongbao.security.secretbox import decode_master_key, generate_master_key

from .live_server import LiveServer

ADMIN_TOKEN = "tbo_test-operator-token-0123456789abcdef"
ADMIN_NAME = "test-operator"


@dataclass
class MovableClock:
    """Real time plus an offset the test controls."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Stack:
    backend: str
    database_url: str
    master_key_text: str
    container: Container
    server: LiveServer
    clock: MovableClock

    @property
    def url(self) -> str:
        return self.server.url

    def reset(self) -> None:
        self.clock.offset = timedelta()

        async def empty() -> None:
            async with self.container.uow() as tx:
                for table in reversed(metadata.sorted_tables):
                    await tx.execute(delete(table))
                await tx.commit()
            await OperatorService(self.container).create(ADMIN_NAME, ADMIN_TOKEN)

        self.server.run(empty())


def start_stack(backend: str, database_url: str, workdir: Path) -> Stack:
    migrate.upgrade(database_url)
    key_text = generate_master_key()
    settings = Settings(data_dir=workdir, database_url=database_url, master_key=key_text)
    clock = MovableClock()
    container = build_container(settings, MasterKey(decode_master_key(key_text), "environment"), clock=clock)
    server = LiveServer(create_app(container, own_container=True)).start()
    return Stack(backend, database_url, key_text, container, server, clock)
