"""How exception cases and alerts look to operators."""

from __future__ import annotations

from typing import Any

from tongbao.cases.models import AlertEvent, CaseAction, ExceptionCase
from tongbao.timestamps import instant


def case_public(case: ExceptionCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "kind": case.kind,
        "status": case.status,
        "merchant_id": case.merchant_id,
        "payment_id": case.payment_id,
        "attempt_id": case.attempt_id,
        "refund_id": case.refund_id,
        "summary": case.summary,
        "evidence": case.evidence,
        "resolution": case.resolution,
        "created_at": instant(case.created_at),
        "updated_at": instant(case.updated_at),
    }


def action_public(action: CaseAction) -> dict[str, Any]:
    return {
        "action": action.action,
        "actor": action.actor,
        "reason": action.reason,
        "detail": action.detail,
        "at": instant(action.at),
    }


def alert_public(alert: AlertEvent) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "subject_id": alert.subject_id,
        "message": alert.message,
        "data": alert.data,
        "created_at": instant(alert.created_at),
    }
