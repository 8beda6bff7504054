"""Builds the adapter for a channel account: decrypted credentials, shared HTTP client, clock.

One ``httpx.AsyncClient`` (with timeouts) serves every outbound channel call; it is created on
first use so that it belongs to the running event loop. Adapters are kept per account version:
loading an RSA private key (with its consistency checks) costs tens of milliseconds, too much to
pay on every callback and query.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Final

import httpx

from tongbao.channels.account import AccountConfig
from tongbao.channels.alipay.adapter import AlipayAdapter
from tongbao.channels.base import ChannelAdapter
from tongbao.channels.kinds import Channel
from tongbao.channels.unionpay.adapter import UnionPayAdapter
from tongbao.channels.wechatpay.adapter import WeChatPayAdapter
from tongbao.channels.wechatpay.platform_keys import CertificateCache
from tongbao.clock import Clock
from tongbao.security.secretbox import SecretBox

ADAPTERS_KEPT: Final = 512


class UnsupportedChannel(Exception):
    pass


class ChannelRegistry:
    def __init__(self, secrets: SecretBox, clock: Clock, *, timeout_s: float = 10.0) -> None:
        self.secrets = secrets
        self.clock = clock
        self.timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None
        self._certificates = CertificateCache()
        self._adapters: OrderedDict[tuple[str, ...], ChannelAdapter] = OrderedDict()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 5.0)),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._http

    def credentials(self, account: AccountConfig) -> dict[str, str]:
        opened = self.secrets.open(account.sealed_credentials, account.credentials_aad)
        return dict(json.loads(opened))

    def supports(self, channel: str) -> bool:
        return channel in (Channel.WECHATPAY, Channel.ALIPAY, Channel.UNIONPAY)

    def adapter(self, account: AccountConfig) -> ChannelAdapter:
        # Any change to the account (credentials re-sealed, config, URL) is a new key.
        key = (
            account.id,
            account.channel,
            account.base_url or "",
            json.dumps(dict(account.config), sort_keys=True),
            hashlib.sha256(account.sealed_credentials.encode()).hexdigest(),
        )
        adapter = self._adapters.get(key)
        if adapter is None:
            adapter = self._build(account)
            self._adapters[key] = adapter
            while len(self._adapters) > ADAPTERS_KEPT:
                self._adapters.popitem(last=False)
        else:
            self._adapters.move_to_end(key)
        return adapter

    def _build(self, account: AccountConfig) -> ChannelAdapter:
        if account.channel == Channel.WECHATPAY:
            return WeChatPayAdapter(
                account_id=account.id,
                base_url=account.base_url,
                config=dict(account.config),
                credentials=self.credentials(account),
                http=self.http,
                clock=self.clock,
                certificates=self._certificates,
            )
        if account.channel == Channel.ALIPAY:
            return AlipayAdapter(
                account_id=account.id,
                base_url=account.base_url,
                config=dict(account.config),
                credentials=self.credentials(account),
                http=self.http,
                clock=self.clock,
            )
        if account.channel == Channel.UNIONPAY:
            return UnionPayAdapter(
                account_id=account.id,
                base_url=account.base_url,
                config=dict(account.config),
                credentials=self.credentials(account),
                http=self.http,
                clock=self.clock,
            )
        raise UnsupportedChannel(f"the {account.channel} channel is not available yet")

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
