"""The one place that wires Tongbao together: settings, database, secret box, clock.

The API, the worker and the CLI each build a ``Container`` and hand it down; nothing below reaches
the database or the network through a module-level global.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from tongbao.channels.registry import ChannelRegistry
from tongbao.clock import Clock, SystemClock
from tongbao.config import Settings
from tongbao.db.engine import make_engine, make_sessionmaker
from tongbao.db.uow import UnitOfWork
from tongbao.notify.endpoints import EndpointPool
from tongbao.security.master_key import MasterKey
from tongbao.security.secretbox import SecretBox


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWork
    secrets: SecretBox
    master_key_is_demo: bool
    channels: ChannelRegistry
    endpoints: EndpointPool
    clock: Clock = field(default_factory=SystemClock)

    async def aclose(self) -> None:
        await self.channels.aclose()
        await self.endpoints.aclose()
        await self.engine.dispose()


def build_container(settings: Settings, master_key: MasterKey, *, clock: Clock | None = None) -> Container:
    engine = make_engine(settings.resolved_database_url())
    clock = clock or SystemClock()
    secrets = SecretBox(master_key.key)
    return Container(
        settings=settings,
        engine=engine,
        uow=UnitOfWork(make_sessionmaker(engine)),
        secrets=secrets,
        master_key_is_demo=master_key.is_demo,
        channels=ChannelRegistry(secrets, clock, timeout_s=settings.channel_timeout_s),
        endpoints=EndpointPool(settings.notify_per_endpoint, settings.notify_timeout_s),
        clock=clock,
    )
