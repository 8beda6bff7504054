"""Registers the demo's channel accounts with the in-process simulators and trusts their keys.

The simulators keep nothing across restarts, so this runs at every demo start: each account's
key is registered again and the simulator's fresh platform key written into the account.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class DemoSimulators:
    wechatpay: WeChatPaySimulator
    alipay: AlipaySimulator
    unionpay: UnionPaySimulator


def _public_pem(private_pem: str) -> str:
    key = load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return samples.public_pem(key)


async def register_accounts(c: Container, sims: DemoSimulators, names: dict[Channel, str]) -> None:
    service = ChannelAccountService(c)
    for channel, name in names.items():
        async with c.uow() as tx:
            account = await tx.scalar(select(ChannelAccount).where(ChannelAccount.name == name))
        assert account is not None
        secret = service.credentials(account)
        config = dict(account.config)
        if channel is Channel.WECHATPAY:
            platform = sims.wechatpay.register_merchant(
                config["mchid"],
                config["appid"],
                config["merchant_serial_no"],
                _public_pem(secret["private_key_pem"]),
                apiv3_key=secret["apiv3_key"],
            )
            config["platform_public_key_id"] = platform["platform_public_key_id"]
            config["platform_public_key_pem"] = platform["platform_public_key_pem"]
        elif channel is Channel.ALIPAY:
            answer = sims.alipay.register_merchant(
                config["app_id"], _public_pem(secret["app_private_key_pem"])
            )
            config["alipay_public_key_pem"] = answer["alipay_public_key_pem"]
        else:
            answer = sims.unionpay.register_merchant(config["mer_id"], secret["signing_certificate_pem"])
            config["unionpay_certificate_pem"] = answer["unionpay_certificate_pem"]
        await service.update(account.id, {"config": config})
