"""When the ledger refuses what a business transaction did, that transaction rolls back whole (the
payment or refund stays exactly as it was) and operators hear of it: an alert each time, and one
case per attempt or refund, written in a transaction of their own."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import structlog

from tongbao.cases.domain import CaseKind
from tongbao.cases.service import open_case, raise_alert
from tongbao.db.uow import UnitOfWork
from tongbao.events import DomainEvent
from tongbao.rules import Refused

log = structlog.get_logger(__name__)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def report_refusal(uow: UnitOfWork, event: DomainEvent, refusal: Refused) -> None:
    facts = {k: _plain(v) for k, v in asdict(event).items() if k != "evidence"}
    summary = f"the ledger refused {type(event).__name__}: {refusal.message}"
    log.error("ledger refused", code=refusal.code, caused_by=type(event).__name__, reason=refusal.message)
    async with uow() as tx:
        case, _ = await open_case(
            tx,
            kind=CaseKind.LEDGER_REFUSED.value,
            now=event.at,
            summary=summary,
            evidence={"code": refusal.code, "event": type(event).__name__, "facts": facts},
            merchant_id=facts.get("merchant_id"),
            payment_id=facts.get("payment_id"),
            attempt_id=facts.get("attempt_id"),
            severity="critical",
        )
        raise_alert(
            tx,
            kind="ledger.refused",
            severity="critical",
            subject_id=case.id,
            message=summary,
            data={"case_id": case.id, "code": refusal.code, "event": type(event).__name__},
            now=event.at,
        )
        await tx.commit()
