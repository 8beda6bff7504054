"""Use cases of channel accounts: register with encrypted credentials, change, bind merchants."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.kinds import Channel
from tongbao.container import Container
from tongbao.errors import Conflict, InvalidRequest, NotFound
from tongbao.ids import new_id
from tongbao.merchants.domain.channel_accounts import (
    DEFAULT_BASE_URLS,
    AccountMode,
    CredentialProblem,
    check_base_url,
    check_config,
    check_credentials,
    check_owner,
    credentials_context,
)
from tongbao.merchants.merchant_service import Page, load_merchant
from tongbao.merchants.models import ChannelAccount, MerchantChannelBinding
from tongbao.merchants.patching import changes, refuse_nulls

# What a PATCH may change. None can be cleared: an account needs a name, an address, its settings
# (base_url is only defaulted when the account is created) and an on/off state.
UPDATABLE_FIELDS = frozenset({"name", "base_url", "config", "enabled"})


def _invalid(exc: CredentialProblem) -> InvalidRequest:
    return InvalidRequest(str(exc), code=exc.code, param=exc.param)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a channel account named {name!r} exists", code="name_taken", param="name")


async def load_account(tx: AsyncSession, account_id: str, *, lock: bool = False) -> ChannelAccount:
    stmt = select(ChannelAccount).where(ChannelAccount.id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    account = await tx.scalar(stmt)
    if account is None:
        raise NotFound(f"no channel account {account_id}", param="channel_account_id")
    return account


class ChannelAccountService:
    def __init__(self, c: Container) -> None:
        self.c = c

    def _seal(self, account_id: str, credentials: dict[str, str]) -> str:
        return self.c.secrets.seal(json.dumps(credentials, sort_keys=True), credentials_context(account_id))

    def credentials(self, account: ChannelAccount) -> dict[str, str]:
        """The decrypted secrets, for the channel adapter only: never for an API response."""
        opened = self.c.secrets.open(account.credentials_ciphertext, credentials_context(account.id))
        return dict(json.loads(opened))

    async def create(
        self,
        *,
        name: str,
        channel: Channel,
        mode: AccountMode,
        merchant_id: str | None,
        base_url: str | None,
        config: dict[str, Any],
        credentials: dict[str, Any],
    ) -> ChannelAccount:
        try:
            check_owner(mode, merchant_id)
            url = check_base_url(base_url or DEFAULT_BASE_URLS[channel])
            checked_config = check_config(channel, config)
            checked_credentials = check_credentials(channel, credentials)
        except CredentialProblem as exc:
            raise _invalid(exc) from exc
        now = self.c.clock.now()
        account_id = new_id("channel_account")
        account = ChannelAccount(
            id=account_id,
            name=name,
            channel=channel.value,
            mode=mode.value,
            merchant_id=merchant_id,
            base_url=url,
            config=checked_config,
            credentials_ciphertext=self._seal(account_id, checked_credentials),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        async with self.c.uow() as tx:
            if merchant_id:
                await load_merchant(tx, merchant_id)
            if await tx.scalar(select(ChannelAccount.id).where(ChannelAccount.name == name)):
                raise _name_taken(name)
            tx.add(account)
            try:
                await tx.commit()
            except IntegrityError as exc:
                raise _name_taken(name) from exc
        return account

    async def get(self, account_id: str) -> ChannelAccount:
        async with self.c.uow() as tx:
            return await load_account(tx, account_id)

    async def list_accounts(
        self, page: Page, channel: Channel | None = None, merchant_id: str | None = None
    ) -> list[ChannelAccount]:
        stmt = select(ChannelAccount).order_by(ChannelAccount.id).limit(page.limit)
        if page.starting_after:
            stmt = stmt.where(ChannelAccount.id > page.starting_after)
        if channel is not None:
            stmt = stmt.where(ChannelAccount.channel == channel.value)
        if merchant_id:
            stmt = stmt.where(ChannelAccount.merchant_id == merchant_id)
        async with self.c.uow() as tx:
            return list((await tx.scalars(stmt)).all())

    async def update(self, account_id: str, fields: dict[str, Any]) -> ChannelAccount:
        refuse_nulls(fields, UPDATABLE_FIELDS)
        async with self.c.uow() as tx:
            account = await load_account(tx, account_id, lock=True)
            try:
                if "base_url" in fields:
                    fields["base_url"] = check_base_url(fields["base_url"])
                if "config" in fields:
                    fields["config"] = check_config(Channel(account.channel), fields["config"])
            except CredentialProblem as exc:
                raise _invalid(exc) from exc
            fields = changes(account, fields)
            if not fields:
                return account
            new_name = fields.get("name")
            if new_name and await tx.scalar(select(ChannelAccount.id).where(ChannelAccount.name == new_name)):
                raise _name_taken(new_name)
            for key, value in fields.items():
                setattr(account, key, value)
            account.updated_at = self.c.clock.now()
            try:
                await tx.commit()
            except IntegrityError as exc:
                raise _name_taken(str(new_name)) from exc
            return account

    async def replace_credentials(self, account_id: str, credentials: dict[str, Any]) -> ChannelAccount:
        async with self.c.uow() as tx:
            account = await load_account(tx, account_id, lock=True)
            try:
                checked = check_credentials(Channel(account.channel), credentials)
            except CredentialProblem as exc:
                raise _invalid(exc) from exc
            account.credentials_ciphertext = self._seal(account.id, checked)
            account.updated_at = self.c.clock.now()
            await tx.commit()
            return account

    async def bind(self, merchant_id: str, channel: Channel, account_id: str) -> MerchantChannelBinding:
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id, lock=True)
            account = await load_account(tx, account_id)
            if account.channel != channel.value:
                raise InvalidRequest(
                    f"{account_id} is a {account.channel} account, not {channel.value}",
                    code="channel_mismatch",
                    param="channel_account_id",
                )
            if account.mode == AccountMode.OWN.value and account.merchant_id != merchant_id:
                raise Conflict(
                    f"{account_id} is another merchant's own account",
                    code="channel_account_not_shared",
                    param="channel_account_id",
                )
            if not account.enabled:
                raise Conflict(
                    f"{account_id} is disabled", code="channel_account_disabled", param="channel_account_id"
                )
            now = self.c.clock.now()
            binding = await tx.get(MerchantChannelBinding, (merchant_id, channel.value))
            if binding is None:
                binding = MerchantChannelBinding(
                    merchant_id=merchant_id,
                    channel=channel.value,
                    channel_account_id=account_id,
                    created_at=now,
                    updated_at=now,
                )
                tx.add(binding)
            else:
                binding.channel_account_id = account_id
                binding.updated_at = now
            await tx.commit()
            return binding

    async def unbind(self, merchant_id: str, channel: Channel) -> None:
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id, lock=True)
            binding = await tx.get(MerchantChannelBinding, (merchant_id, channel.value))
            if binding is None:
                raise NotFound(
                    f"merchant {merchant_id} has no {channel.value} account bound", param="channel"
                )
            await tx.delete(binding)
            await tx.commit()

    async def bindings(self, merchant_id: str) -> list[MerchantChannelBinding]:
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id)
            stmt = (
                select(MerchantChannelBinding)
                .where(MerchantChannelBinding.merchant_id == merchant_id)
                .order_by(MerchantChannelBinding.channel)
            )
            return list((await tx.scalars(stmt)).all())
