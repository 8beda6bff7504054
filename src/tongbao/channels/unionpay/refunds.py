"""UnionPay refunds (退货, ``txnType`` 04) read into Tongbao's words.

A refund is a back transaction to ``backTransReq.do``. Its synchronous answer only says whether the
gateway took it: respCode 00 (or 05, "accepted, ask later") means *processing*, never done. The
result comes as a signed back notify to ``backUrl`` (respCode 00 is success, anything else a failure
in the gateway's words) and can be asked for with ``queryTrans.do`` by the refund's own ``orderId``
and ``txnTime``: ``origRespCode`` 00 succeeded, 03/04/05 still processing, anything else failed.

respCode 03 ("communication timed out") and 04 ("state unknown") leave the gateway's side unknown, so
they are ``ChannelUnknownOutcome`` like a timeout: a later query tells whether the refund exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    RefundRequest,
    RefundResult,
    RefundState,
)
from tongbao.channels.unionpay import protocol
from tongbao.money import string_to_fen


def submitted(request: RefundRequest, answer: Mapping[str, str]) -> RefundResult:
    """The gateway's synchronous answer to a refund. A duplicate (respCode 12) is refused here; the
    adapter first checks whether it is this very refund, submitted before."""
    resp_code, resp_msg = answer.get("respCode", ""), answer.get("respMsg", "")
    if resp_code in (protocol.RESP_SUCCESS, protocol.RESP_ACCEPTED):
        amount = answer.get("txnAmt")
        if amount is not None and amount != str(request.amount):
            raise ChannelUnknownOutcome("bad_answer", "the answer names another amount")
        return RefundResult(
            refund_no=request.refund_no,
            state=RefundState.PROCESSING,
            channel_refund_no=answer.get("queryId") or None,
            amount=request.amount,
            raw=dict(answer),
        )
    if resp_code in protocol.RESP_PENDING or not resp_code:
        raise ChannelUnknownOutcome(f"respCode_{resp_code}", resp_msg or "the refund did not complete")
    raise ChannelRejected(f"respCode_{resp_code}", resp_msg or "the refund was refused")


def queried(request: RefundRequest, answer: Mapping[str, str]) -> RefundResult:
    """A query's answer about the refund's own transaction."""
    resp_code, resp_msg = answer.get("respCode", ""), answer.get("respMsg", "")
    if resp_code == protocol.RESP_NO_SUCH_ORDER:
        return RefundResult(request.refund_no, RefundState.NOT_FOUND, raw=dict(answer))
    if resp_code in protocol.RESP_PENDING or not resp_code:
        raise ChannelUnknownOutcome(f"respCode_{resp_code}", resp_msg or "the query did not complete")
    if resp_code != protocol.RESP_SUCCESS:
        raise ChannelRejected(f"respCode_{resp_code}", resp_msg or "the query was refused")
    orig = answer.get("origRespCode", "")
    if not orig:
        raise ChannelUnknownOutcome("bad_answer", "a found transaction without origRespCode")
    try:
        return _result(request.refund_no, orig, answer.get("origRespMsg", ""), answer)
    except ValueError as exc:
        raise ChannelUnknownOutcome("bad_answer", str(exc)) from exc


def notified(message: Mapping[str, str]) -> RefundResult:
    """A verified back notify of a refund; ValueError when it is not one Tongbao could have asked for."""
    if (message.get("txnType"), message.get("txnSubType")) != protocol.TXN_REFUND:
        raise ValueError("not a refund notification")
    refund_no = protocol.order_no(message.get("orderId", ""))
    if message.get("txnTime") != protocol.txn_time(refund_no):
        raise ValueError("txnTime does not match the refund")
    resp_code = message.get("respCode", "")
    if not resp_code:
        raise ValueError("a refund notification without respCode")
    if resp_code in protocol.RESP_PENDING:
        raise ValueError(f"a refund notification is a result, not respCode {resp_code}")
    return _result(refund_no, resp_code, message.get("respMsg", ""), message)


def _result(refund_no: str, code: str, text: str, message: Mapping[str, str]) -> RefundResult:
    """The refund's outcome from its transaction's code (origRespCode, or a notify's respCode)."""
    amount = string_to_fen(message.get("txnAmt", ""))
    channel_refund_no = message.get("queryId") or None
    if code in protocol.RESP_PENDING:
        return RefundResult(refund_no, RefundState.PROCESSING, channel_refund_no, amount, raw=dict(message))
    if code != protocol.RESP_SUCCESS:
        # The gateway's own code and words, so an operator can tell a closed card from a refusal.
        reason = f"respCode {code}: {text}" if text else f"respCode {code}"
        return RefundResult(
            refund_no, RefundState.FAILED, channel_refund_no, amount, failure_reason=reason, raw=dict(message)
        )
    if channel_refund_no is None:
        raise ValueError("a successful refund without queryId")
    return RefundResult(
        refund_no,
        RefundState.SUCCEEDED,
        channel_refund_no,
        amount,
        refunded_at=_finished_at(message),
        raw=dict(message),
    )


def _finished_at(message: Mapping[str, str]) -> datetime:
    txn_time = message.get("txnTime", "")
    trace_time = message.get("traceTime", "")
    return protocol.trace_moment(trace_time, txn_time) if trace_time else protocol.parse_time(txn_time)


def same_refund(request: RefundRequest, found: RefundResult) -> bool:
    """Whether a refund the gateway already holds under this orderId is the one asked for now."""
    orig = found.raw.get("origQryId")
    return found.amount == request.amount and (orig is None or orig == request.channel_trade_no)
