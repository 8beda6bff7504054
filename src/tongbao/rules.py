"""Rule violations, raised by domain rules and services and free of any framework.

    RuleBroken         the request is well formed, but the state of things refuses it (HTTP 409)
    ├── InputRefused   the request itself breaks a rule: an amount out of bounds … (HTTP 400)
    └── Refused        what the request caused was refused further on (the ledger) (HTTP 409)

Each carries a stable code, the parameter at fault (or None) and a message for people. The API
turns them into its error shape in one place (``api/errors.py``); jobs catch the precise subclasses
they can act on (a payment under review is retried later, one that settled meanwhile is done).
"""

from __future__ import annotations


class RuleBroken(Exception):
    def __init__(self, code: str, param: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.param = param
        self.message = message


class InputRefused(RuleBroken):
    """The request breaks a rule whatever the state: asking again unchanged cannot succeed."""


class Refused(RuleBroken):
    """A handler of a transaction's domain events refused what the transaction did (the ledger
    refusing a posting): the whole transaction rolls back and the refusal is reported to operators."""
