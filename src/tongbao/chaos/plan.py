"""A chaos run decided in advance from one seed: what each payer and merchant does, which process
dies when, and the channels' fault plans. The same seed gives the same scenario; what the processes
then make of it depends on timing, which is the point."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from tongbao.channels.kinds import Channel, Method

# Every payment expires this soon (the API's minimum), so that whatever the faults leave open, the
# expiry closes at the channel (and finds a late payment there) within the run.
EXPIRE_IN_S: Final = 60
# Tongbao gives up on a channel call after this long; the simulators' timeouts hang a little longer.
CHANNEL_TIMEOUT_S: Final = 2.0
HANG_S: Final = 2.5


class Fate(StrEnum):
    PAY = "pay"  # the payer pays; refunds may follow
    EXPIRE = "expire"  # nobody pays: Tongbao closes it when it expires
    CLOSE = "close"  # the merchant closes it before anyone pays
    PAY_THEN_CLOSE = "pay_then_close"  # the payer pays, the merchant closes anyway: it must stay paid


@dataclass(frozen=True)
class PaymentScript:
    number: int
    method: Method
    amount: int
    fate: Fate
    refunds: tuple[int, ...]  # partial refunds asked for once it succeeded, in order
    over_refund: bool  # then one more asking for 1 fen past what is left: must be refused
    auth_code: str | None  # barcode: "28…" pays at once, "26…" waits for the payer
    think_s: float  # how long the payer takes

    @property
    def out_trade_no(self) -> str:
        return f"chaos-{self.number}"


@dataclass(frozen=True)
class Kill:
    at_s: float  # after the load started
    role: str  # "api" or "worker"
    index: int
    down_s: float  # how long it stays dead


@dataclass(frozen=True)
class ChaosPlan:
    seed: int
    scripts: tuple[PaymentScript, ...]
    kills: tuple[Kill, ...]
    faults: dict[Channel, dict[str, Any]]
    load_s: float


# Faults on the calls Tongbao makes, each endpoint hit about one call in five: slow answers, 5xx
# with nothing done, 5xx with the work done, answers that come after Tongbao has hung up, refunds
# still processing. On callbacks: lost, sent several times, late.
_CALLS: Final = [
    {"kind": "latency", "rate": 0.05, "latency_ms": 50},
    {"kind": "error_5xx", "rate": 0.07},
    {"kind": "system_error", "rate": 0.04},
    {"kind": "timeout", "rate": 0.04, "hang_s": HANG_S},
]
_CALLBACKS: Final = [
    {"kind": "lost", "rate": 0.08},
    {"kind": "duplicate", "rate": 0.06, "copies": 3},
    {"kind": "delay", "rate": 0.06, "delay_s": 1.0},
]
_REFUNDS: Final = [
    {"kind": "processing", "rate": 0.08, "polls": 1},
    {"kind": "error_5xx", "rate": 0.06},
    {"kind": "system_error", "rate": 0.06},
]
# UnionPay's "create" is the payer's browser posting the form, not a call Tongbao makes.
_CALL_ENDPOINTS: Final = {
    Channel.WECHATPAY: ("create", "query", "close", "refund_query"),
    Channel.ALIPAY: ("create", "pay", "query", "close", "cancel", "refund_query"),
    Channel.UNIONPAY: ("query", "refund_query"),
}
_CALLBACK_ENDPOINTS: Final = {
    Channel.WECHATPAY: ("callback", "refund_callback"),
    Channel.ALIPAY: ("callback",),
    Channel.UNIONPAY: ("callback", "refund_callback"),
}


def fault_plan(channel: Channel, seed: int) -> dict[str, Any]:
    rules = [{"endpoint": e, **f} for e in _CALL_ENDPOINTS[channel] for f in _CALLS]
    rules += [{"endpoint": "refund", **f} for f in _REFUNDS]
    rules += [{"endpoint": e, **f} for e in _CALLBACK_ENDPOINTS[channel] for f in _CALLBACKS]
    return {"seed": seed, "rules": rules}


def _script(rng: random.Random, number: int) -> PaymentScript:
    method = rng.choice(list(Method))
    amount = rng.randint(100, 50_000)
    fate = rng.choices(list(Fate), weights=(60, 18, 14, 8))[0]
    auth_code = None
    if method is Method.ALIPAY_BARCODE:
        prefix = "28" if rng.random() < 0.7 else "26"
        auth_code = prefix + "".join(rng.choice("0123456789") for _ in range(16))
    refunds: tuple[int, ...] = ()
    over = False
    if fate is Fate.PAY and rng.random() < 0.5:
        left, asked = amount, []
        for _ in range(rng.randint(1, 3)):
            part = rng.randint(1, max(1, left // 2))
            asked.append(part)
            left -= part
        if rng.random() < 0.3:
            asked.append(left)  # the rest: fully refunded
        refunds, over = tuple(asked), rng.random() < 0.3
    return PaymentScript(number, method, amount, fate, refunds, over, auth_code, rng.uniform(0.0, 1.5))


def make_plan(seed: int, payments: int, rounds: int, *, load_s: float, apis: int, workers: int) -> ChaosPlan:
    rng = random.Random(seed)  # noqa: S311 - a scenario, not a secret
    scripts = tuple(_script(rng, n) for n in range(payments))
    # Rounds spread over the load, each at a random moment of its slot: kills land mid-request.
    slot = load_s / max(rounds, 1)
    kills = []
    for k in range(rounds):
        role = "api" if rng.random() < 0.5 else "worker"
        index = rng.randrange(apis if role == "api" else workers)
        kills.append(Kill(k * slot + rng.uniform(0.1, 0.7) * slot, role, index, rng.uniform(0.2, 1.5)))
    faults = {channel: fault_plan(channel, seed * 31 + i) for i, channel in enumerate(Channel)}
    return ChaosPlan(seed, scripts, tuple(kills), faults, load_s)
