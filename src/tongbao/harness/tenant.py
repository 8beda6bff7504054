"""A merchant made for one run: active, with an app, an operator, and channel accounts at the
standalone simulators, registered there. Names carry the run's tag, so runs never collide and the
checks of a run look at its own merchant only."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from tongbao.channels.kinds import Channel, Method
from tongbao.container import Container
from tongbao.demo.registration import control_registrar, register_accounts
from tongbao.demo.seed import create_active_merchant, enable_methods, ensure_channel_accounts
from tongbao.merchants.app_service import AppService
from tongbao.security.operators import OperatorService


@dataclass(frozen=True)
class Tenant:
    tag: str
    merchant_id: str
    app_id: str
    app_secret: str
    admin_token: str


async def seed_tenant(
    c: Container,
    tag: str,
    simulator_urls: Mapping[Channel, str],
    notify_url: str,
    own: Collection[Channel] = (),
) -> Tenant:
    actor = f"harness-{tag}"
    operator = await OperatorService(c).create(actor)
    merchant = await create_active_merchant(c, f"Harness {tag}", actor)
    app = (
        await AppService(c).create(merchant.id, {"name": f"Harness app {tag}", "notify_url": notify_url})
    ).app
    names = {channel: f"Harness {tag} {channel.value}" for channel in simulator_urls}
    await ensure_channel_accounts(c, merchant.id, simulator_urls, names, own)
    registrars = {channel: control_registrar(url) for channel, url in simulator_urls.items()}
    await register_accounts(c, registrars, names)
    await enable_methods(c, merchant.id, [m.value for m in Method])
    caller = await AppService(c).caller(app.id)
    assert caller is not None and caller.secrets
    return Tenant(tag, merchant.id, app.id, caller.secrets[0], operator.token)
