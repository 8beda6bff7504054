"""Fault injection for the channel simulators, deterministic from a seed.

A plan is ``{seed, rules: [{endpoint, kind, rate, …params}]}``. Each call to an endpoint gets a call
number (a per-endpoint counter); whether rule *i* fires on call *n* is drawn from a generator seeded
with ``(seed, endpoint, n, i)`` alone, so the same plan and the same sequence of calls always give the
same faults, whatever else runs in the process. Channel-neutral: each simulator decides which endpoint
names it has ("create", "query", "close", "callback", …) and what each kind means there.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final


class FaultKind(StrEnum):
    LATENCY = "latency"  # answer late: latency_ms
    TIMEOUT = "timeout"  # stall hang_s after applying (or before, with before=true)
    ERROR_5XX = "error_5xx"  # 500 SYSTEM_ERROR, nothing applied
    SYSTEM_ERROR = "system_error"  # 500 SYSTEM_ERROR, but the request was applied
    PROCESSING = "processing"  # "in progress" first, success later (channels that have it)
    LOST = "lost"  # the callback is never sent
    DUPLICATE = "duplicate"  # the callback is sent `copies` times at once
    DELAY = "delay"  # the callback is sent after delay_s
    REORDER = "reorder"  # callbacks arrive out of order (channels with several events)
    WRONG_AMOUNT = "wrong_amount"  # the amount reported is off by `delta` fen
    ABNORMAL = "abnormal"  # a refund that cannot reach the payer (card or account closed): fails


class FaultPlanError(ValueError):
    """The plan is malformed; the message says what to fix."""


# For each kind: parameter name -> (type, default, check, what the check wants).
_Check = tuple[type, Any, Any, str]
_PARAMS: Final[dict[FaultKind, dict[str, _Check]]] = {
    FaultKind.LATENCY: {"latency_ms": (int, 0, lambda v: v >= 0, "a non-negative integer")},
    FaultKind.TIMEOUT: {
        "hang_s": (float, 30.0, lambda v: v >= 0, "a non-negative number"),
        "before": (bool, False, lambda v: True, "a boolean"),
    },
    FaultKind.ERROR_5XX: {},
    FaultKind.SYSTEM_ERROR: {},
    FaultKind.PROCESSING: {"polls": (int, 1, lambda v: v >= 1, "a positive integer")},
    FaultKind.LOST: {},
    FaultKind.DUPLICATE: {"copies": (int, 2, lambda v: 2 <= v <= 100, "an integer from 2 to 100")},
    FaultKind.DELAY: {"delay_s": (float, 1.0, lambda v: v >= 0, "a non-negative number")},
    FaultKind.REORDER: {"delay_s": (float, 1.0, lambda v: v >= 0, "a non-negative number")},
    FaultKind.WRONG_AMOUNT: {"delta": (int, 1, lambda v: v != 0, "a non-zero integer (fen)")},
    FaultKind.ABNORMAL: {},
}


def _type_ok(wanted: type, value: Any) -> bool:
    # bool is an int in Python; a flag where a number is wanted (or the reverse) is a mistake.
    if wanted is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if wanted is int:
        return isinstance(value, int)
    return isinstance(value, int | float) and math.isfinite(value)


def _coerce(kind: FaultKind, name: str, value: Any) -> Any:
    wanted, _default, check, what = _PARAMS[kind][name]
    if not _type_ok(wanted, value) or not check(value):
        raise FaultPlanError(f"{kind.value}.{name} must be {what}")
    return float(value) if wanted is float else value


@dataclass(frozen=True)
class FaultRule:
    endpoint: str
    kind: FaultKind
    rate: float
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or not self.endpoint:
            raise FaultPlanError("endpoint must be a non-empty name or '*'")
        if isinstance(self.rate, bool) or not isinstance(self.rate, int | float) or not 0 <= self.rate <= 1:
            raise FaultPlanError("rate must be a number from 0 to 1")
        known = _PARAMS[self.kind]
        unknown = sorted(set(self.params) - set(known))
        if unknown:
            raise FaultPlanError(f"{self.kind.value} takes no parameter {', '.join(unknown)}")
        filled = {name: spec[1] for name, spec in known.items()}
        filled.update({name: _coerce(self.kind, name, value) for name, value in self.params.items()})
        object.__setattr__(self, "params", filled)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("*", endpoint)

    def param(self, name: str) -> Any:
        return self.params[name]

    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict):
            raise FaultPlanError("each rule is an object {endpoint, kind, rate, …params}")
        rest = dict(data)
        try:
            endpoint, kind_name, rate = rest.pop("endpoint"), rest.pop("kind"), rest.pop("rate")
        except KeyError as exc:
            raise FaultPlanError(f"a rule lacks {exc.args[0]}") from exc
        try:
            kind = FaultKind(kind_name)
        except ValueError as exc:
            kinds = ", ".join(k.value for k in FaultKind)
            raise FaultPlanError(f"unknown fault kind {kind_name!r}; one of {kinds}") from exc
        return cls(endpoint=endpoint, kind=kind, rate=rate, params=rest)

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "kind": self.kind.value, "rate": self.rate, **self.params}


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    rules: tuple[FaultRule, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise FaultPlanError("seed must be an integer")
        object.__setattr__(self, "rules", tuple(self.rules))

    @classmethod
    def from_json(cls, data: Any) -> FaultPlan:
        if not isinstance(data, dict):
            raise FaultPlanError("a fault plan is an object {seed, rules}")
        rules = data.get("rules", [])
        if not isinstance(rules, list):
            raise FaultPlanError("rules must be a list")
        unknown = sorted(set(data) - {"seed", "rules"})
        if unknown:
            raise FaultPlanError(f"a fault plan has no field {', '.join(unknown)}")
        if "seed" not in data:
            raise FaultPlanError("a fault plan needs a seed")
        return cls(seed=data["seed"], rules=tuple(FaultRule.from_json(rule) for rule in rules))

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [rule.to_json() for rule in self.rules]}

    def decide(self, endpoint: str, call_number: int) -> Faults:
        """The rules that fire on call ``call_number`` (from 1) of ``endpoint``: a pure function."""
        fired = []
        for index, rule in enumerate(self.rules):
            if not rule.matches(endpoint):
                continue
            # A string seed is hashed with SHA-512 by random.Random: stable across processes.
            draw = random.Random(f"{self.seed}|{endpoint}|{call_number}|{index}").random()  # noqa: S311
            if draw < rule.rate:
                fired.append(rule)
        return Faults(tuple(fired))


@dataclass(frozen=True)
class Faults:
    """The rules that fired for one call; ``get(kind)`` gives the first of that kind, if any."""

    rules: tuple[FaultRule, ...] = ()

    def get(self, kind: FaultKind) -> FaultRule | None:
        return next((rule for rule in self.rules if rule.kind is kind), None)

    def __bool__(self) -> bool:
        return bool(self.rules)


NO_FAULTS: Final = Faults()


class FaultInjector:
    """The live plan of one simulator and its per-endpoint call counters."""

    def __init__(self) -> None:
        self._plan: FaultPlan | None = None
        self._calls: dict[str, int] = {}

    @property
    def plan(self) -> FaultPlan | None:
        return self._plan

    def install(self, plan: FaultPlan) -> None:
        # Counters restart so that a plan replays the same decisions from its first call.
        self._plan = plan
        self._calls = {}

    def clear(self) -> None:
        self._plan = None
        self._calls = {}

    def plan_json(self) -> dict[str, Any]:
        if self._plan is None:
            return {"seed": None, "rules": []}
        return {**self._plan.to_json(), "calls": dict(self._calls)}

    def next(self, endpoint: str) -> Faults:
        """Count one call to ``endpoint`` and say which faults hit it."""
        if self._plan is None:
            return NO_FAULTS
        number = self._calls.get(endpoint, 0) + 1
        self._calls[endpoint] = number
        return self._plan.decide(endpoint, number)
