"""Domain events: facts in the past tense that a domain method returns when it changes money state.

The feature that causes one publishes it in its transaction (``tongbao.db.uow.publish``); the
handlers registered in ``tongbao.bootstrap`` run before that transaction commits, so whatever an
event triggers (an exception case, a policy refund, later a ledger posting) is written with it or
not at all. Plain Python, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    at: datetime
