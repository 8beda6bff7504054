"""A burst of refunds of mixed amounts on a payment already partly refunded, more than is left: the
payment's row lock on PostgreSQL lets through refunds that fit, one after the other, refuses every one
that no longer fits, and the payment's refunded and refundable amounts add up to what was captured."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.refunds.support import paid, refund
from tests.support.factories import ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_order

CAPTURED = 1000


@pytest.fixture
def on_postgres(tongbao: Stack) -> Stack:
    if tongbao.backend != "postgres":
        # SQLite has its own burst (test_refund_concurrency.py); row locks are PostgreSQL's story.
        pytest.skip("a burst against PostgreSQL's row locks")
    return tongbao


@st.composite
def bursts(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A first refund, then refunds each over a quarter of what it leaves: six or more are too many."""
    first = draw(st.integers(min_value=1, max_value=CAPTURED - 8))
    left = CAPTURED - first
    amounts = draw(st.lists(st.integers(min_value=left // 4 + 1, max_value=left), min_size=6, max_size=12))
    return first, amounts


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(burst=bursts())
def test_a_burst_over_what_is_left_lets_through_only_refunds_that_fit(
    on_postgres: Stack, shop: WeChatMerchant, burst: tuple[int, list[int]]
) -> None:
    tongbao = on_postgres
    first, amounts = burst
    payment = paid(tongbao, shop, amount=CAPTURED)
    ok(refund(shop, payment["id"], first), 201)
    tongbao.wechatpay_wait()
    before = shop.payment(payment["id"])
    assert (before["status"], before["refundable_amount"]) == ("refunded_partially", CAPTURED - first)
    left = CAPTURED - first

    with ThreadPoolExecutor(max_workers=len(amounts)) as pool:
        answers: list[httpx.Response] = list(pool.map(lambda a: refund(shop, payment["id"], a), amounts))
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    taken = [n for n, a in zip(amounts, answers, strict=True) if a.status_code == 201]
    refused = [n for n, a in zip(amounts, answers, strict=True) if a.status_code == 409]
    assert sum(taken) <= left
    # A refused refund did not fit when its turn came, so it does not fit in what is left now either.
    assert all(n > left - sum(taken) for n in refused), (left, taken, refused)
    assert {
        (e["code"], e["param"]) for e in (a.json()["error"] for a in answers if a.status_code == 409)
    } <= {("refund_exceeds_remaining", "amount")}

    tongbao.wechatpay_wait()
    tongbao.run_jobs()
    final = shop.payment(payment["id"])
    refunded = first + sum(taken)
    assert final["refunded_amount"] == refunded
    assert final["refunded_amount"] + final["refundable_amount"] == final["captured_amount"] == CAPTURED
    assert final["status"] == ("refunded" if refunded == CAPTURED else "refunded_partially")
    assert sorted(r["amount"] for r in final["refunds"]) == sorted([first, *taken])
    assert {r["status"] for r in final["refunds"]} == {"succeeded"}
    assert len(sim_order(tongbao, payment["captured_attempt_id"])["refunds"]) == 1 + len(taken)
