"""WeChat Pay v3 refunds in Tongbao's words: the submit body, and a refund object (the submit's and the
query's answer, or a refund callback's resource) read as a ``RefundResult``.

A refund is PROCESSING until it ends SUCCESS, ABNORMAL (the payer's card was found closed or frozen on
the way back; the merchant must return the money another way) or CLOSED. WeChat says nothing more
about why, so a failure carries the status and WeChat's own description of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tongbao.channels.base import ChannelUnknownOutcome, RefundRequest, RefundResult, RefundState
from tongbao.channels.wechatpay import protocol

REFUNDS_PATH: Final = "/v3/refund/domestic/refunds"
REFUND_STATES: Final = {
    "SUCCESS": RefundState.SUCCEEDED,
    "PROCESSING": RefundState.PROCESSING,
    "ABNORMAL": RefundState.FAILED,
    "CLOSED": RefundState.FAILED,
}
# WeChat's descriptions of the statuses that end a refund without the money reaching the payer.
FAILED_STATUS_WORDS: Final = {
    "ABNORMAL": "退款异常，退款到银行发现用户的卡作废或者冻结了，导致原路退款银行卡失败",
    "CLOSED": "退款关闭",
}
REASON_MAX_BYTES: Final = 80


def _reason(text: str) -> str:
    # WeChat counts the reason in bytes; cut on a character boundary rather than be refused for it.
    return text.encode()[:REASON_MAX_BYTES].decode("utf-8", "ignore")


def refund_body(request: RefundRequest) -> dict[str, Any]:
    """The submit: the order by WeChat's transaction_id when we know it (WeChat's advice), otherwise by
    our out_trade_no; the refund and the order's total in fen."""
    body: dict[str, Any] = {"out_refund_no": request.refund_no}
    if request.channel_trade_no:
        body["transaction_id"] = request.channel_trade_no
    else:
        body["out_trade_no"] = request.order_no
    if request.reason:
        body["reason"] = _reason(request.reason)
    body["notify_url"] = request.notify_url
    body["amount"] = {"refund": request.amount, "total": request.order_amount, "currency": request.currency}
    return body


def read_refund(
    answer: Mapping[str, Any], refund_no: str, order_no: str | None, *, status_field: str = "status"
) -> RefundResult:
    """A refund object as WeChat sends it (``status_field`` is ``refund_status`` in callbacks).
    Anything malformed or about another refund is an unknown outcome, never a guess."""
    if answer.get("out_refund_no") != refund_no:
        raise ChannelUnknownOutcome("bad_answer", "the answer is about another refund")
    if order_no is not None and answer.get("out_trade_no") not in (None, order_no):
        raise ChannelUnknownOutcome("bad_answer", "the answer is about another order")
    raw_status = answer.get(status_field)
    state = REFUND_STATES.get(raw_status) if isinstance(raw_status, str) else None
    if state is None:
        raise ChannelUnknownOutcome("unknown_refund_status", f"unexpected {status_field} {raw_status!r}")
    amount = answer.get("amount")
    refunded = amount.get("refund") if isinstance(amount, dict) else None
    if type(refunded) is not int:
        raise ChannelUnknownOutcome("bad_answer", "a refund without an integer amount.refund")
    refund_id = answer.get("refund_id")
    if refund_id is not None and not isinstance(refund_id, str):
        raise ChannelUnknownOutcome("bad_answer", "refund_id is not a string")
    success_time = answer.get("success_time")
    try:
        refunded_at = protocol.parse_rfc3339(success_time) if isinstance(success_time, str) else None
    except ValueError as exc:
        raise ChannelUnknownOutcome("bad_answer", f"success_time {success_time!r} is not a time") from exc
    failure_reason = None
    if state is RefundState.FAILED:
        failure_reason = f"{raw_status}: {FAILED_STATUS_WORDS[str(raw_status)]}"
        account = answer.get("user_received_account")
        if isinstance(account, str) and account:
            failure_reason += f"（退款入账账户：{account}）"
    return RefundResult(
        refund_no=refund_no,
        state=state,
        channel_refund_no=refund_id or None,
        amount=refunded,
        failure_reason=failure_reason,
        refunded_at=refunded_at if state is RefundState.SUCCEEDED else None,
        raw=dict(answer),
    )
