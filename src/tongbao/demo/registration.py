"""Registers channel accounts with the simulators and trusts the keys they answer.

The simulators keep nothing across restarts, so this runs at every start: each account's key is
registered again and the simulator's fresh platform key written into the account. A registrar is
a simulator's ``register_merchant``, called in-process or through its control API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import select

from tongbao.channels.kinds import Channel
from tongbao.container import Container
from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.models import ChannelAccount
from tongbao.security import samples
from tongbao.simulators.alipay import AlipaySimulator
from tongbao.simulators.unionpay import UnionPaySimulator
from tongbao.simulators.wechatpay.state import WeChatPaySimulator

Registrar = Callable[..., dict[str, str]]


@dataclass(frozen=True)
class DemoSimulators:
    wechatpay: WeChatPaySimulator
    alipay: AlipaySimulator
    unionpay: UnionPaySimulator

    def registrars(self) -> dict[Channel, Registrar]:
        return {
            Channel.WECHATPAY: self.wechatpay.register_merchant,
            Channel.ALIPAY: self.alipay.register_merchant,
            Channel.UNIONPAY: self.unionpay.register_merchant,
        }


def control_registrar(simulator_url: str) -> Registrar:
    """A standalone simulator's ``POST /_control/merchants``, which takes the same fields."""

    def register(**fields: Any) -> dict[str, str]:
        answer = httpx.post(f"{simulator_url.rstrip('/')}/_control/merchants", json=fields, timeout=10)
        answer.raise_for_status()
        registered: dict[str, str] = answer.json()
        return registered

    return register


def _public_pem(private_pem: str) -> str:
    key = load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return samples.public_pem(key)


async def register_accounts(
    c: Container, registrars: Mapping[Channel, Registrar], names: Mapping[Channel, str]
) -> None:
    service = ChannelAccountService(c)
    for channel, name in names.items():
        async with c.uow() as tx:
            account = await tx.scalar(select(ChannelAccount).where(ChannelAccount.name == name))
        assert account is not None
        secret = service.credentials(account)
        config = dict(account.config)
        if channel is Channel.WECHATPAY:
            platform = registrars[channel](
                mchid=config["mchid"],
                appid=config["appid"],
                serial_no=config["merchant_serial_no"],
                public_key_pem=_public_pem(secret["private_key_pem"]),
                apiv3_key=secret["apiv3_key"],
            )
            config["platform_public_key_id"] = platform["platform_public_key_id"]
            config["platform_public_key_pem"] = platform["platform_public_key_pem"]
        elif channel is Channel.ALIPAY:
            answer = registrars[channel](
                app_id=config["app_id"], public_key_pem=_public_pem(secret["app_private_key_pem"])
            )
            config["alipay_public_key_pem"] = answer["alipay_public_key_pem"]
        else:
            answer = registrars[channel](
                mer_id=config["mer_id"], certificate_pem=secret["signing_certificate_pem"]
            )
            config["unionpay_certificate_pem"] = answer["unionpay_certificate_pem"]
        await service.update(account.id, {"config": config})
