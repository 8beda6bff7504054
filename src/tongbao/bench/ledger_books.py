"""What ``bench ledger`` posts against, and the trade records it leaves for ``ledger check``.

Before the run: the merchants (run-tagged, active, each with an app), one shared WeChat Pay channel
account, the platform's default fee plan for ``wechat_native`` and the account's channel-cost plan,
so that every capture looks its fee and cost up as in production. The ledger makes its accounts
itself. After the run: each capture the bench saw committed is written as the succeeded payment
and attempt it describes, so that the internal reconciliation in ``ledger check`` can hold every
entry against its payment (one capture entry each, with the plan's fee) and none is left over.
Neither is measured: the bench times the posting path alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from tongbao.channels.kinds import Channel, Method
from tongbao.container import Container
from tongbao.ids import new_id
from tongbao.ledger.domain import FeePlanInvalid
from tongbao.ledger.plan_service import PlanService
from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.merchants.domain.onboarding import MerchantStatus
from tongbao.merchants.models import App, Merchant
from tongbao.payments.domain import AttemptStatus, PaymentStatus, PaymentSucceeded
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.security import samples

METHOD = Method.WECHAT_NATIVE
OPERATOR = "bench-ledger"
FEE_BPS = "60"  # 0.6 %, at least 1 fen: a WeChat Pay merchant's usual rate
COST_BPS = "20"
_CHUNK = 1_000  # rows per INSERT


@dataclass(frozen=True)
class Books:
    tag: str
    merchant_ids: tuple[str, ...]
    app_of: dict[str, str]  # merchant id -> its app
    channel_account_id: str
    fee_plan_id: str | None  # None: the database had a default plan already, which charges instead
    cost_plan_id: str


async def _merchants(c: Container, tag: str, count: int) -> dict[str, str]:
    """``count`` active merchants with an app each, written in bulk: seeding is not what is measured."""
    now = c.clock.now()
    merchants: list[dict[str, Any]] = [
        {
            "id": new_id("merchant"),
            "name": f"Bench ledger {tag} {number:04d}",
            "legal_name": f"Bench ledger merchant {number:04d}",
            "status": MerchantStatus.ACTIVE.value,
            "enabled_methods": [METHOD.value],
            "created_at": now,
            "updated_at": now,
        }
        for number in range(count)
    ]
    apps: list[dict[str, Any]] = [
        {
            "id": new_id("app"),
            "merchant_id": m["id"],
            "name": "bench",
            "notify_url": None,
            "ip_allowlist": [],
            "enabled": True,
            "created_at": now,
            "updated_at": now,
        }
        for m in merchants
    ]
    async with c.uow() as tx:
        for rows, model in ((merchants, Merchant), (apps, App)):
            for start in range(0, len(rows), _CHUNK):
                await tx.execute(insert(model), rows[start : start + _CHUNK])
        await tx.commit()
    return {app["merchant_id"]: app["id"] for app in apps}


async def _channel_account(c: Container, tag: str) -> str:
    """A shared WeChat Pay account with freshly made keys; the bench never calls the channel."""
    ours, theirs = samples.new_rsa_key(), samples.new_rsa_key()
    account = await ChannelAccountService(c).create(
        name=f"Bench ledger {tag} wechatpay",
        channel=Channel.WECHATPAY,
        mode=AccountMode.SHARED,
        merchant_id=None,
        base_url="http://127.0.0.1:9/wechatpay",
        config={
            "mchid": "1900000109",
            "appid": "wxd678efh567hg6787",
            "merchant_serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            "platform_public_key_id": "PUB_KEY_ID_0119000001092025",
            "platform_public_key_pem": samples.public_pem(theirs),
        },
        credentials={"private_key_pem": samples.private_pem(ours), "apiv3_key": secrets.token_hex(16)},
    )
    return account.id


def _rule(rate_bps: str, minimum: int) -> dict[str, Any]:
    return {
        "rate_bps": rate_bps,
        "minimum": minimum,
        "cap": None,
        "refund_mode": "proportional",
        "effective_from": None,
        "effective_to": None,
    }


async def _fee_plan(c: Container) -> str | None:
    """The platform's default plan for the method; a database that has one in effect keeps it."""
    body = {"merchant_id": None, "method": METHOD.value, **_rule(FEE_BPS, 1)}
    try:
        plan = await PlanService(c).create_fee_plan(OPERATOR, body)
    except FeePlanInvalid as exc:
        if exc.code != "plan_overlaps":
            raise
        return None
    return str(plan["id"])


async def open_books(c: Container, merchants: int) -> Books:
    tag = secrets.token_hex(4)
    app_of = await _merchants(c, tag, merchants)
    account_id = await _channel_account(c, tag)
    fee_plan = await _fee_plan(c)
    cost_plan = await PlanService(c).create_cost_plan(OPERATOR, account_id, _rule(COST_BPS, 0))
    return Books(tag, tuple(app_of), app_of, account_id, fee_plan, str(cost_plan["id"]))


def _payment(books: Books, e: PaymentSucceeded) -> dict[str, Any]:
    return {
        "id": e.payment_id,
        "merchant_id": e.merchant_id,
        "app_id": books.app_of[e.merchant_id],
        "out_trade_no": f"bench-{e.attempt_id}",
        "amount": e.amount,
        "currency": e.currency,
        "subject": "bench ledger",
        "method": e.method,
        "status": PaymentStatus.SUCCEEDED.value,
        "extra": {},
        "fingerprint": "0" * 64,
        "expires_at": e.at + timedelta(hours=2),
        "captured_attempt_id": e.attempt_id,
        "channel": e.channel,
        "channel_account_id": e.channel_account_id,
        "account_mode": e.account_mode,
        "captured_amount": e.amount,
        "refunded_amount": 0,
        "succeeded_at": e.at,
        "created_at": e.at,
        "updated_at": e.at,
    }


def _attempt(e: PaymentSucceeded) -> dict[str, Any]:
    return {
        "id": e.attempt_id,
        "payment_id": e.payment_id,
        "method": e.method,
        "channel": e.channel,
        "channel_account_id": e.channel_account_id,
        "account_mode": e.account_mode,
        "status": AttemptStatus.SUCCEEDED.value,
        "amount": e.amount,
        "currency": e.currency,
        "paid_amount": e.amount,
        "queries_done": 0,
        "created_at": e.at,
        "updated_at": e.at,
        "finished_at": e.at,
    }


async def record_trades(c: Container, books: Books, captures: Sequence[PaymentSucceeded]) -> None:
    """The payments and attempts the committed captures describe."""
    async with c.uow() as tx:
        for start in range(0, len(captures), _CHUNK):
            chunk = captures[start : start + _CHUNK]
            await tx.execute(insert(Payment), [_payment(books, e) for e in chunk])
            await tx.execute(insert(PaymentAttempt), [_attempt(e) for e in chunk])
        await tx.commit()
