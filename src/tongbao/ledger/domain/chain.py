"""The hash chain over the journal (不可篡改): each sealed entry's hash covers the hash before it and
the entry's canonical form, postings included. Plain Python.

Changing an entry or one of its postings changes its canonical form, so its hash no longer matches
its seal; removing one leaves a seal without its entry; adding one below the sealed watermark leaves
an entry without a seal. Rewriting the seals as well changes the chain's head, which is published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

GENESIS: Final = "0" * 64

ENTRY_FIELDS: Final = (
    "id",
    "kind",
    "idempotency_key",
    "currency",
    "merchant_id",
    "payment_id",
    "attempt_id",
    "refund_id",
    "case_id",
    "gross",
    "fee",
    "net",
    "cost",
    "memo",
)


def canonical(entry: Mapping[str, Any], postings: Sequence[tuple[str, int]]) -> bytes:
    """The entry's fields and its postings (account, signed amount) in one fixed byte form."""
    created: datetime = entry["created_at"]
    body = {name: entry[name] for name in ENTRY_FIELDS}
    body["created_at"] = created.isoformat(timespec="microseconds")
    body["postings"] = sorted([account, int(amount)] for account, amount in postings)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, form: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + form).hexdigest()
