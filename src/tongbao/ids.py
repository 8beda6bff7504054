"""Prefixed ULIDs: ``pay_01J…``. The prefix says what an id names; the ULID sorts by creation time."""

from __future__ import annotations

from typing import Final

from ulid import ULID

PREFIXES: Final = {
    "app": "app",
    "app_secret": "aps",
    "merchant": "mch",
    "merchant_event": "mev",
    "document": "doc",
    "channel_account": "ca",
    "operator": "op",
    "request": "req",
    "payment": "pay",
    "attempt": "pat",
    "refund": "rfd",
    "case_action": "exa",
    "job": "job",
    "event": "evt",
    "delivery": "ndl",
    "case": "exc",
    "alert": "alr",
    "ledger_entry": "le",
    "fee_plan": "fpl",
    "cost_plan": "cpl",
    "recon_difference": "ird",
    "recon_run": "irr",
}


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{ULID()}"
