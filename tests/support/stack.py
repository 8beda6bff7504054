"""One running Tongbao per database backend, emptied before each test that uses it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete

from tongbao.api.app import create_app
from tongbao.bootstrap import build_container, build_worker
from tongbao.config import Settings
from tongbao.container import Container
from tongbao.db import migrate
from tongbao.db.registry import metadata
from tongbao.jobs.worker import Worker
from tongbao.security.master_key import MasterKey
from tongbao.security.operators import OperatorService
from tongbao.security.secretbox import decode_master_key, generate_master_key
from tongbao.simulators.alipay import AlipaySimulator, create_alipay_simulator
from tongbao.simulators.unionpay import UnionPaySimulator, create_unionpay_simulator
from tongbao.simulators.wechatpay.app import create_wechatpay_simulator
from tongbao.simulators.wechatpay.state import WeChatPaySimulator

from .clock import StackClock
from .live_server import LiveServer

ADMIN_TOKEN = "tbo_test-operator-token-0123456789abcdef"
ADMIN_NAME = "test-operator"


@dataclass
class Stack:
    backend: str
    database_url: str
    master_key_text: str
    container: Container
    server: LiveServer
    clock: StackClock
    wechatpay: WeChatPaySimulator
    worker: Worker
    alipay: AlipaySimulator
    unionpay: UnionPaySimulator

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def wechatpay_url(self) -> str:
        return f"{self.server.url}/sim/wechatpay"

    @property
    def alipay_url(self) -> str:
        return f"{self.server.url}/sim/alipay"

    @property
    def unionpay_url(self) -> str:
        return f"{self.server.url}/sim/unionpay"

    def wechatpay_wait(self) -> None:
        """Until the WeChat Pay simulator's callbacks so far are answered (or given up)."""
        self.server.run(self.wechatpay.wait_callbacks())

    def alipay_wait(self) -> None:
        self.server.run(self.alipay.wait_callbacks())

    def unionpay_wait(self) -> None:
        self.server.run(self.unionpay.wait_callbacks())

    def run_jobs(self) -> int:
        """Runs every job due now, as a worker process would, and returns how many ran."""

        async def due() -> int:
            await self.worker.ensure_periodic()
            return await self.worker.run_due()

        return self.server.run(due())

    def reset(self) -> None:
        self.clock.restart()

        async def empty() -> None:
            # Callbacks still in flight from the last test, and its faults, end here.
            for sim in (self.wechatpay, self.alipay, self.unionpay):
                await sim.aclose()
                sim.faults.clear()
            async with self.container.uow() as tx:
                for table in reversed(metadata.sorted_tables):
                    await tx.execute(delete(table))
                await tx.commit()
            await OperatorService(self.container).create(ADMIN_NAME, ADMIN_TOKEN)

        self.server.run(empty())


def start_stack(backend: str, database_url: str, workdir: Path) -> Stack:
    migrate.upgrade(database_url)
    key_text = generate_master_key()
    # Short outbound timeouts keep the tests of slow channels and dead endpoints quick.
    settings = Settings(
        data_dir=workdir,
        database_url=database_url,
        master_key=key_text,
        channel_timeout_s=2.0,
        notify_timeout_s=2.0,
    )
    clock = StackClock()
    container = build_container(settings, MasterKey(decode_master_key(key_text), "environment"), clock=clock)
    wechatpay = create_wechatpay_simulator(clock=clock, callback_schedule_s=CALLBACK_RETRIES_S)
    alipay = create_alipay_simulator(clock=clock, callback_schedule_s=CALLBACK_RETRIES_S)
    unionpay = create_unionpay_simulator(clock=clock, callback_schedule_s=CALLBACK_RETRIES_S)
    simulators = {"wechatpay": wechatpay, "alipay": alipay, "unionpay": unionpay}
    server = LiveServer(create_app(container, own_container=True, simulators=simulators))
    settings.public_base_url = server.url
    server.start()
    worker = build_worker(container, owner="test-worker", lease_s=60.0)
    return Stack(
        backend,
        database_url,
        key_text,
        container,
        server,
        clock,
        wechatpay.state.simulator,
        worker,
        alipay.state.simulator,
        unionpay.state.simulator,
    )


# The simulator retries unanswered callbacks quickly here, and not forever.
CALLBACK_RETRIES_S = (0.2, 0.2, 0.5)
