"""Expiry of payments held for review: a payment whose capture an operator must judge does not expire
while it is held, expires as soon as the hold ends, and never stops the expiry of anyone else's."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import delete

from tests.support.cases import decide, events_of, underpaid
from tests.support.factories import ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant
from tongbao.jobs.models import Job

PAST_EXPIRY_S = 3 * 3600  # payments expire after two hours by default
SWEEP_EVERY_S = 30
HELD_RETRY_S = 600


def test_a_held_payment_expires_once_its_case_is_dismissed(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    created, case = underpaid(tongbao, shop, admin)
    tongbao.clock.advance(PAST_EXPIRY_S)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "pending"  # held: an operator decides first
    ok(decide(admin, case["id"], "dismiss", "settled with the payer by phone"))
    tongbao.clock.advance(HELD_RETRY_S)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "closed"
    tongbao.run_jobs()
    assert events_of(shop, created["id"]) == ["payment.closed"]


def test_a_held_payment_expires_once_its_mismatched_capture_is_refunded(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    created, case = underpaid(tongbao, shop, admin)
    tongbao.clock.advance(PAST_EXPIRY_S)
    tongbao.run_jobs()
    ok(decide(admin, case["id"], "refund", "the payer paid the wrong amount"))
    tongbao.wechatpay_wait()  # the channel's refund callback: the case resolves
    assert ok(admin.get(f"/admin/v1/exception-cases/{case['id']}"))["status"] == "resolved"
    tongbao.clock.advance(HELD_RETRY_S)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "closed"


async def _lose_expiry_job(tongbao: Stack, payment_id: str) -> None:
    async with tongbao.container.uow() as tx:
        await tx.execute(delete(Job).where(Job.dedupe_key == f"expire:{payment_id}"))
        await tx.commit()


@pytest.fixture
def small_sweep(tongbao: Stack) -> Iterator[int]:
    """One expiry sweep takes this many payments."""
    settings = tongbao.container.settings
    before = settings.expiry_sweep_batch
    settings.expiry_sweep_batch = 3
    yield settings.expiry_sweep_batch
    settings.expiry_sweep_batch = before


def test_more_held_payments_than_one_sweep_takes_do_not_stop_expiry_for_others(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client, small_sweep: int
) -> None:
    held = [underpaid(tongbao, shop, admin)[0]["id"] for _ in range(small_sweep + 1)]
    # Created after the held ones, so it expires after them: last in the sweep's order. Its own
    # expiry job is lost (as in a restore from backup): only the sweep can find it.
    unpaid = ok(shop.create_payment(), 201)["id"]
    tongbao.server.run(_lose_expiry_job(tongbao, unpaid))
    tongbao.clock.advance(PAST_EXPIRY_S)
    for _ in range(4):
        tongbao.run_jobs()
        tongbao.clock.advance(SWEEP_EVERY_S)
    assert shop.payment(unpaid)["status"] == "closed"
    assert {shop.payment(p)["status"] for p in held} == {"pending"}
