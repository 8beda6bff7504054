"""A Tongbao on this machine as production runs it: API processes, worker processes and the channel
simulators, each its own process, on one database. The harness seeds its merchant directly."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongbao.bootstrap import build_container
from tongbao.channels.kinds import Channel
from tongbao.config import Settings
from tongbao.container import Container
from tongbao.db import migrate
from tongbao.security.master_key import MasterKey
from tongbao.security.secretbox import decode_master_key, generate_master_key

from .processes import Child, free_port
from .tenant import Tenant, seed_tenant


@dataclass
class Layout:
    """What to run: how many of each process, which simulators, and their fault plans."""

    api_processes: int = 1
    api_workers: int = 1
    job_workers: int = 0
    channels: Collection[Channel] = (Channel.WECHATPAY,)
    own_accounts: Collection[Channel] = ()
    faults: Mapping[Channel, dict[str, Any]] = field(default_factory=dict)
    extra_env: Mapping[str, str] = field(default_factory=dict)


class Deployment:
    """Start with :meth:`start`, stop with :meth:`close` (a context manager does both)."""

    def __init__(self, database_url: str, workdir: Path, layout: Layout, notify_url: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.layout = layout
        self.notify_url = notify_url
        self.master_key_text = generate_master_key()
        self.tag = secrets.token_hex(4)
        self.simulators: dict[Channel, Child] = {}
        self.apis: list[Child] = []
        self.workers: list[Child] = []
        self.tenant: Tenant | None = None

    # -- the processes -------------------------------------------------------------------------

    def env(self, base_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAO_")}
        env.update(
            TONGBAO_DATABASE_URL=self.database_url,
            TONGBAO_MASTER_KEY=self.master_key_text,
            TONGBAO_DATA_DIR=str(self.workdir / "data"),
            TONGBAO_PUBLIC_BASE_URL=base_url,
            **self.layout.extra_env,
        )
        return env

    @property
    def base_url(self) -> str:
        return self.apis[0].ready_url.removesuffix("/healthz")

    @property
    def base_urls(self) -> list[str]:
        return [api.ready_url.removesuffix("/healthz") for api in self.apis]

    def simulator_url(self, channel: Channel) -> str:
        return self.simulators[channel].ready_url.removesuffix("/_control/faults")

    def start(self) -> Tenant:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        migrate.upgrade(self.database_url)
        for channel in self.layout.channels:
            port = free_port()
            args = ["sim", channel.value, "--port", str(port)]
            if channel in self.layout.faults:
                args += ["--faults", json.dumps(self.layout.faults[channel])]
            url = f"http://127.0.0.1:{port}/_control/faults"
            self.simulators[channel] = Child(
                f"{channel.value} simulator", args, self.env(""), self._log(channel.value), url
            )
        ports = [free_port() for _ in range(self.layout.api_processes)]
        # Channels call back the first API process; the others share the load of merchants' calls.
        public = f"http://127.0.0.1:{ports[0]}" if ports else ""
        for number, port in enumerate(ports):
            args = ["serve", "--port", str(port)]
            if self.layout.api_workers > 1:
                args += ["--workers", str(self.layout.api_workers)]
            self.apis.append(
                Child(
                    f"api {number}",
                    args,
                    self.env(public),
                    self._log(f"api-{number}"),
                    f"http://127.0.0.1:{port}/healthz",
                )
            )
        for number in range(self.layout.job_workers):
            self.workers.append(
                Child(f"worker {number}", ["worker"], self.env(public), self._log(f"worker-{number}"), "")
            )
        for child in self.simulators.values():
            child.start()
        for child in self.simulators.values():
            child.wait_ready()
        self.tenant = asyncio.run(self._seed())
        for child in self.apis + self.workers:
            child.start()
        for child in self.apis:
            child.wait_ready()
        return self.tenant

    def close(self) -> None:
        for child in [*self.apis, *self.workers, *self.simulators.values()]:
            child.stop()

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    # -- the database, directly ----------------------------------------------------------------

    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            master_key=self.master_key_text,
            data_dir=self.workdir / "data",
            public_base_url=self.base_url if self.apis else "",
        )

    def master_key(self) -> MasterKey:
        return MasterKey(decode_master_key(self.master_key_text), "environment")

    def container(self) -> Container:
        return build_container(self.settings(), self.master_key())

    def add_tenants(self, notify_urls: Sequence[str]) -> list[Tenant]:
        """More merchants of this run, one per notify URL (tags ``<run tag>-<n>``), seeded like the first."""
        return asyncio.run(self._seed_more(notify_urls))

    async def _seed_more(self, notify_urls: Sequence[str]) -> list[Tenant]:
        c = self.container()
        try:
            urls = {channel: self.simulator_url(channel) for channel in self.simulators}
            own = self.layout.own_accounts
            return [
                await seed_tenant(c, f"{self.tag}-{number}", urls, notify_url, own)
                for number, notify_url in enumerate(notify_urls, start=1)
            ]
        finally:
            await c.aclose()

    async def _seed(self) -> Tenant:
        c = self.container()
        try:
            urls = {channel: self.simulator_url(channel) for channel in self.simulators}
            return await seed_tenant(c, self.tag, urls, self.notify_url, self.layout.own_accounts)
        finally:
            await c.aclose()
