"""What every part of Tongbao is handed: settings, database, secret box, channels, clock.

``tongbao.bootstrap`` builds it (and wires the event handlers); the API, the worker and the CLI pass
it down, so nothing below reaches the database or the network through a module-level global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tongbao.channels.registry import ChannelRegistry
from tongbao.clock import Clock, SystemClock
from tongbao.config import Settings
from tongbao.db.uow import UnitOfWork
from tongbao.notify.endpoints import EndpointPool
from tongbao.security.secretbox import SecretBox
from tongbao.ttl_cache import TtlCache


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
    # Authenticated callers by app id (merchants.app_service), for settings.caller_cache_s.
    callers: TtlCache[str, Any] = field(default_factory=lambda: TtlCache(0))

    async def aclose(self) -> None:
        await self.channels.aclose()
        await self.endpoints.aclose()
        await self.engine.dispose()
