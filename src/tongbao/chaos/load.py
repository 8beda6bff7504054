"""The mixed load: each script is one payer and the merchant's calls about that payment, started at
a steady pace over the load's time so kills land among requests of every kind."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

import httpx

from tongbao.channels.kinds import Channel, Method

from .merchant import Answer, GaveUp, Merchant
from .plan import EXPIRE_IN_S, ChaosPlan, Fate, PaymentScript

CONCURRENCY: Final = 32
# How long the merchant waits to see a payment succeed before it refunds (a lost callback may
# leave it pending until the expiry finds it paid: then there is nothing to refund in this run).
SUCCEEDED_WITHIN_S: Final = 8.0
CAPTURED: Final = ("succeeded", "refunded_partially", "refunded")


@dataclass
class LoadResult:
    created: dict[int, dict[str, Any]] = field(default_factory=dict)  # script number -> the payment
    refunds: dict[str, int] = field(default_factory=dict)  # refund id -> amount asked
    actions: Counter[str] = field(default_factory=Counter)
    # What a merchant would call an incident: an answer that breaks the API's promises.
    problems: list[str] = field(default_factory=list)
    done: int = 0


def channel_order_no(method: str, attempt: Mapping[str, Any]) -> str:
    """The number the channel knows an attempt by (UnionPay's order ids allow no underscore)."""
    number = str(attempt["channel_order_no"])
    return number.replace("_", "") if method.startswith("unionpay") else number


def create_body(script: PaymentScript) -> dict[str, Any]:
    body: dict[str, Any] = {
        "out_trade_no": script.out_trade_no,
        "amount": script.amount,
        "subject": f"Chaos order {script.number}",
        "method": script.method.value,
        "expire_in_seconds": EXPIRE_IN_S,
    }
    if script.method is Method.WECHAT_JSAPI:
        body["payer"] = {"openid": f"o-chaos-{script.number}"}
    if script.method is Method.WECHAT_H5:
        body["client_ip"] = "127.0.0.1"
    if script.auth_code is not None:
        body["auth_code"] = script.auth_code
    return body


class Payer:
    """Opens what the payment's action says, the way the payer's browser or wallet would, and pays
    at the simulator's control API."""

    def __init__(self, simulator_urls: Mapping[Channel, str]) -> None:
        self.urls = dict(simulator_urls)
        self.http = httpx.AsyncClient(timeout=15.0, trust_env=False, follow_redirects=False)

    async def open(self, payment: Mapping[str, Any]) -> None:
        action = payment.get("action") or {}
        kind = action.get("type")
        try:
            if kind == "form_post":
                await self.http.post(action["url"], data=action["fields"])
            elif kind == "redirect" and str(payment["method"]).startswith("alipay"):
                await self.http.get(action["url"])
            elif kind == "app" and payment["method"] == Method.ALIPAY_APP.value:
                params = dict(parse_qsl(action["order_string"], keep_blank_values=True))
                await self.http.post(f"{self.urls[Channel.ALIPAY]}/gateway.do", data=params)
        except httpx.HTTPError:
            pass  # the payer's page did not load: nothing opened

    async def pay(self, payment: Mapping[str, Any]) -> bool:
        method = Method(payment["method"])
        url = f"{self.urls[method.channel]}/_control/pay"
        paid = False
        for attempt in payment.get("attempts") or []:
            order = channel_order_no(method.value, attempt)
            try:
                response = await self.http.post(url, json={"out_trade_no": order})
            except httpx.HTTPError:
                continue
            paid = paid or response.status_code == 200
        return paid

    async def aclose(self) -> None:
        await self.http.aclose()


class Load:
    def __init__(self, plan: ChaosPlan, merchant: Merchant, payer: Payer, tag: str) -> None:
        self.plan = plan
        self.merchant = merchant
        self.payer = payer
        self.tag = tag
        self.result = LoadResult()

    async def run(self, on_progress: Callable[[], None] = lambda: None) -> LoadResult:
        gate = asyncio.Semaphore(CONCURRENCY)
        pace_s = self.plan.load_s / max(1, len(self.plan.scripts))
        begin = time.monotonic()

        async def one(script: PaymentScript) -> None:
            await asyncio.sleep(max(0.0, begin + script.number * pace_s - time.monotonic()))
            async with gate:
                try:
                    await self._script(script)
                except GaveUp as exc:
                    self.result.problems.append(str(exc))
            self.result.done += 1
            on_progress()

        await asyncio.gather(*(one(s) for s in self.plan.scripts))
        return self.result

    def _key(self, what: str) -> str:
        return f"{self.tag}-{what}"

    async def _script(self, script: PaymentScript) -> None:
        answer = await self.merchant.post(
            "/v1/payments", create_body(script), self._key(f"create-{script.number}")
        )
        if answer.status not in (200, 201):
            self.result.problems.append(
                f"create {script.out_trade_no}: HTTP {answer.status} {answer.code} after {answer.tries} tries"
            )
            return
        payment = answer.body
        self.result.created[script.number] = payment
        self.result.actions["create"] += 1
        await self.payer.open(payment)
        await asyncio.sleep(script.think_s)
        if script.fate is Fate.CLOSE:
            await self._close(script, payment["id"], expect_closed=True)
            await self.payer.pay(payment)  # too late: the order is closed at the channel
            return
        if script.fate is Fate.EXPIRE:
            return
        if script.auth_code is None or script.auth_code.startswith("26"):
            if await self.payer.pay(payment):
                self.result.actions["pay"] += 1
        if script.fate is Fate.PAY_THEN_CLOSE:
            await self._close(script, payment["id"], expect_closed=False)
        if script.refunds:
            await self._refunds(script, payment["id"])

    async def _close(self, script: PaymentScript, payment_id: str, *, expect_closed: bool) -> None:
        answer = await self.merchant.post(
            f"/v1/payments/{payment_id}/close", {}, self._key(f"close-{script.number}")
        )
        self.result.actions["close"] += 1
        status = answer.body.get("status")
        if answer.status == 200 and status in ("closed", *CAPTURED):
            return
        if answer.status == 409 and answer.code in ("payment_not_closable", "payment_under_review"):
            return
        self.result.problems.append(
            f"close {payment_id} ({script.out_trade_no}): HTTP {answer.status} {answer.code or status}"
        )

    async def _refunds(self, script: PaymentScript, payment_id: str) -> None:
        deadline = time.monotonic() + SUCCEEDED_WITHIN_S
        while True:
            seen = await self.merchant.get(f"/v1/payments/{payment_id}")
            if seen.body.get("status") in CAPTURED or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        if seen.body.get("status") not in CAPTURED:
            self.result.actions["refunds_skipped"] += 1
            return
        for i, amount in enumerate(script.refunds):
            answer = await self._refund(script, payment_id, i, amount)
            if answer.status in (200, 201):
                self.result.refunds[str(answer.body["id"])] = amount
            else:  # the plan never asks for more than was paid
                self.result.problems.append(
                    f"refund {script.out_trade_no}-r{i} of {payment_id}: HTTP {answer.status} {answer.code}"
                )
        if script.over_refund:
            left = script.amount - sum(script.refunds)
            answer = await self._refund(script, payment_id, len(script.refunds), left + 1)
            if answer.status in (200, 201):
                self.result.problems.append(
                    f"refund of {left + 1} fen on {payment_id} accepted with only {left} fen left to refund"
                )
                self.result.refunds[str(answer.body["id"])] = left + 1

    async def _refund(self, script: PaymentScript, payment_id: str, i: int, amount: int) -> Answer:
        body = {"payment_id": payment_id, "out_refund_no": f"{script.out_trade_no}-r{i}", "amount": amount}
        answer = await self.merchant.post("/v1/refunds", body, self._key(f"refund-{script.number}-{i}"))
        self.result.actions["refund"] += 1
        return answer
