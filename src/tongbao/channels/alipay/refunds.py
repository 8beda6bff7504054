"""Alipay refunds in Tongbao's words: ``alipay.trade.refund`` and ``alipay.trade.fastpay.refund.query``.

A refund is named by the trade and an ``out_request_no`` (Tongbao's refund number); Alipay refunds one
number at most once, so asking again with the same number is always safe. Alipay numbers no refunds of
its own: the trade's ``trade_no`` stands for the refund at the channel.

``alipay.trade.refund`` is synchronous: ``fund_change`` "Y" means the money went back now. "N" (or no
``fund_change``) means nothing moved *on this call*: either the number was refunded before, or Alipay
has the request and has not finished it; only the refund query tells which.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from tongbao.channels.alipay import protocol
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    RefundRequest,
    RefundResult,
    RefundState,
)
from tongbao.money import fen_to_yuan, yuan_to_fen

CURRENCY: Final = "CNY"
REFUND_METHOD: Final = "alipay.trade.refund"
QUERY_METHOD: Final = "alipay.trade.fastpay.refund.query"

# alipay.trade.refund's business errors that are a definite "no": nothing went back and asking again
# will not change that. Everything else (ACQ.SYSTEM_ERROR, ACQ.REFUND_CHARGE_ERROR, codes not listed
# here) may hide a refund that happened, so it is an unknown outcome and the refund is queried.
# ACQ.DISCORDANT_REPEAT_REQUEST is deliberately absent: it says this number was *already refunded*
# with another amount, which is money gone back, not a refusal.
REFUSALS: Final = frozenset(
    {
        "ACQ.ALLOC_AMOUNT_VALIDATE_ERROR",
        "ACQ.BUYER_ENABLE_STATUS_FORBID",
        "ACQ.BUYER_ERROR",
        "ACQ.BUYER_NOT_EXIST",
        "ACQ.CURRENCY_NOT_SUPPORT",
        "ACQ.CUSTOMER_VALIDATE_ERROR",
        "ACQ.ENTERPRISE_PAY_BIZ_ERROR",
        "ACQ.INVALID_PARAMETER",
        "ACQ.NOT_ALLOW_PARTIAL_REFUND",
        "ACQ.ONLINE_TRADE_VOUCHER_NOT_ALLOW_REFUND",
        "ACQ.OVERDRAFT_AGREEMENT_NOT_MATCH",
        "ACQ.OVERDRAFT_ASSIGN_ACCOUNT_INVALID",
        "ACQ.REASON_TRADE_BEEN_FREEZEN",
        "ACQ.REASON_TRADE_REFUND_FEE_ERR",
        "ACQ.REASON_TRADE_STATUS_INVALID",
        "ACQ.REFUNDALLOC_UNAUTH_LIMIT",
        "ACQ.REFUND_ACCOUNT_NOT_EXIST",
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
        "ACQ.REFUND_FEE_ERROR",
        "ACQ.REFUND_ROYALTY_PAYEE_ACCOUNT_NOT_EXIST",
        "ACQ.SELLER_BALANCE_NOT_ENOUGH",
        "ACQ.TRADE_HAS_CLOSE",
        "ACQ.TRADE_HAS_FINISHED",
        "ACQ.TRADE_NOT_ALLOW_REFUND",
        "ACQ.TRADE_NOT_EXIST",
        "ACQ.TRADE_SETTLE_ERROR",
        "ACQ.TRADE_STATUS_ERROR",
        "ACQ.USER_NOT_MATCH_ERR",
    }
)
# The refund query's definite refusals: our question itself was wrong.
QUERY_REFUSALS: Final = frozenset({"ACQ.INVALID_PARAMETER"})


def refund_biz(request: RefundRequest) -> dict[str, Any]:
    if request.currency != CURRENCY:
        raise ChannelRejected("CURRENCY_UNSUPPORTED", "Alipay domestic trades are refunded in CNY")
    biz: dict[str, Any] = {
        "out_trade_no": request.order_no,
        "refund_amount": fen_to_yuan(request.amount),
        # Always sent: partial refunds need it, and it is what makes a repeat the same refund.
        "out_request_no": request.refund_no,
    }
    if request.reason:
        biz["refund_reason"] = request.reason
    return biz


def query_biz(request: RefundRequest) -> dict[str, Any]:
    return {
        "out_trade_no": request.order_no,
        "out_request_no": request.refund_no,
        "query_options": list(protocol.REFUND_QUERY_OPTIONS),
    }


def _error(node: Mapping[str, Any]) -> tuple[str, str]:
    code = str(node.get("sub_code") or node.get("code"))
    return code, str(node.get("sub_msg") or node.get("msg") or "")


def refusal(node: Mapping[str, Any], definite: frozenset[str]) -> ChannelRejected | ChannelUnknownOutcome:
    """What an answer other than code 10000 means: a refusal only when Alipay's docs say so."""
    code, message = _error(node)
    if node.get("code") == protocol.CODE_BUSINESS and code in definite:
        return ChannelRejected(code, message)
    return ChannelUnknownOutcome(code, message or f"unexpected answer code {node.get('code')!r}")


def _same_trade(node: Mapping[str, Any], request: RefundRequest) -> str | None:
    out_trade_no = node.get("out_trade_no")
    if out_trade_no is not None and out_trade_no != request.order_no:
        raise ChannelUnknownOutcome("bad_answer", "the answer is about another trade")
    trade_no = node.get("trade_no")
    if trade_no is not None and not isinstance(trade_no, str):
        raise ChannelUnknownOutcome("bad_answer", "trade_no is not a string")
    return trade_no or request.channel_trade_no


def _time(node: Mapping[str, Any], name: str) -> datetime | None:
    text = node.get(name)
    if text is None or text == "":
        return None
    try:
        if not isinstance(text, str):
            raise ValueError(text)
        return protocol.parse_time(text)
    except ValueError as exc:
        raise ChannelUnknownOutcome("bad_answer", f"{name} {text!r} is not a time") from exc


def _amount(node: Mapping[str, Any], name: str) -> int | None:
    text = node.get(name)
    if text is None:
        return None
    try:
        if not isinstance(text, str):
            raise ValueError(text)
        return yuan_to_fen(text)
    except ValueError as exc:
        raise ChannelUnknownOutcome("bad_answer", f"{name} {text!r} is not a yuan amount") from exc


def submitted(node: Mapping[str, Any], request: RefundRequest) -> RefundResult | None:
    """A code 10000 answer to alipay.trade.refund: SUCCEEDED when money moved now, else None (ask)."""
    trade_no = _same_trade(node, request)
    _amount(node, "refund_fee")  # the trade's refunded total: only checked for shape
    if node.get("fund_change") != "Y":
        return None
    return RefundResult(
        refund_no=request.refund_no,
        state=RefundState.SUCCEEDED,
        channel_refund_no=trade_no,
        amount=request.amount,  # the answer carries the trade's total refunded, not this refund's
        refunded_at=_time(node, "gmt_refund_pay"),
        raw=dict(node),
    )


def queried(node: Mapping[str, Any], request: RefundRequest) -> RefundResult:
    """A code 10000 answer to alipay.trade.fastpay.refund.query.

    The docs: a refund made with alipay.trade.refund reports refund_status REFUND_SUCCESS once the
    money is back; without refund_status Alipay "did not receive the request, or the refund failed",
    and a query made soon after the refund may not see it yet. So an answer that names no refund at
    all is NOT_FOUND (asking again with the same number is safe: Alipay refunds a number once), while
    an answer that names this refund without a status is PROCESSING: Alipay holds it and has not
    finished. REFUND_PROCESSING / REFUND_FAIL (with error_code) are the words Alipay uses for refunds
    it carries out later; they map to PROCESSING / FAILED.
    """
    out_request_no = node.get("out_request_no")
    status = node.get("refund_status")
    if not out_request_no and not status and node.get("refund_amount") is None:
        return RefundResult(request.refund_no, RefundState.NOT_FOUND, raw=dict(node))
    if out_request_no is not None and out_request_no != request.refund_no:
        raise ChannelUnknownOutcome("bad_answer", "the answer is about another refund")
    trade_no = _same_trade(node, request)
    amount = _amount(node, "refund_amount")
    common: dict[str, Any] = {"channel_refund_no": trade_no, "amount": amount, "raw": dict(node)}
    if status == protocol.REFUND_SUCCESS:
        if amount is None:
            raise ChannelUnknownOutcome("bad_answer", "a succeeded refund without refund_amount")
        return RefundResult(
            request.refund_no, RefundState.SUCCEEDED, refunded_at=_time(node, "gmt_refund_pay"), **common
        )
    if status == protocol.REFUND_FAIL:
        error_code = node.get("error_code")
        reason = f"{status}: {error_code}" if error_code else str(status)
        return RefundResult(request.refund_no, RefundState.FAILED, failure_reason=reason, **common)
    if status in (None, "", protocol.REFUND_PROCESSING):
        return RefundResult(request.refund_no, RefundState.PROCESSING, **common)
    raise ChannelUnknownOutcome("unknown_refund_status", f"unexpected refund_status {status!r}")
