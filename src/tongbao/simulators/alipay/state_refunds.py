"""Refunds at the simulated Alipay: made (or found again) when ``alipay.trade.refund`` asks, finished,
and settled from the control API when left processing. ``gateway_refunds`` answers the two refund
methods from them.

As at Alipay, a refund is an ``out_request_no`` of a trade (numbers are per trade; without one the
refund is numbered by the trade's out_trade_no and must be the full amount). The same number with the
same amount is the same refund: ``fund_change`` "N", nothing moves again; with another amount it is
ACQ.DISCORDANT_REPEAT_REQUEST. A refund succeeds at once by default (``fund_change`` "Y"); a trade
refunded in full is TRADE_CLOSED. Alipay sends no refund callbacks, so none are sent here.

Faults on endpoint "refund", besides the common ones: PROCESSING (``polls`` = N) accepts the refund
without finishing it (``fund_change`` "N"); the query names it without ``refund_status`` for N
queries, then it has succeeded. ABNORMAL closes the payer's account: the refund, and every later one
of that trade, is refused with ACQ.CUSTOMER_VALIDATE_ERROR (账户已注销或者被冻结); Alipay keeps nothing
of a refused request, so the query does not know it. A processing refund settled "abnormal" from the
control API failed after Alipay took it: the query says REFUND_FAIL with that error_code.
"""

from __future__ import annotations

from typing import Any, Final

from tongbao.channels.alipay import protocol

from ..base.control import ControlError, check_fields
from ..faults import FaultKind, Faults
from .gateway_errors import business
from .state import AlipaySimulator, parse_amount, text_param
from .state_models import Refund, Trade

ACCOUNT_CLOSED: Final = "ACQ.CUSTOMER_VALIDATE_ERROR"
OUTCOMES: Final = ("success", "abnormal")


def succeed(sim: AlipaySimulator, trade: Trade, refund: Refund) -> None:
    refund.status = protocol.REFUND_SUCCESS
    refund.finished_at = sim.clock.now()
    refund.polls_left = 0
    if trade.paid is not None and trade.refunded() >= trade.paid:
        trade.status = "TRADE_CLOSED"  # refunded in full: Alipay closes the trade


def fail(sim: AlipaySimulator, refund: Refund, error_code: str) -> None:
    refund.status = protocol.REFUND_FAIL
    refund.error_code = error_code
    refund.finished_at = sim.clock.now()
    refund.polls_left = 0


def _reason(biz: dict[str, Any]) -> str:
    reason = biz.get("refund_reason", "")
    if not isinstance(reason, str) or len(reason) > 256:
        raise business("ACQ.INVALID_PARAMETER", "refund_reason 超长")
    return reason


def _check_refundable(trade: Trade, amount: int, *, numbered: bool) -> None:
    """Alipay's refusals of a new refund on this trade, in the order it checks them."""
    if trade.status == "WAIT_BUYER_PAY":
        raise business("ACQ.TRADE_STATUS_ERROR", "交易状态非法")
    if trade.status == "TRADE_CLOSED":
        raise business("ACQ.TRADE_HAS_CLOSE", "交易已关闭")
    paid = trade.paid or 0
    if not numbered and amount != paid:
        raise business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    if trade.committed() + amount > paid:
        raise business("ACQ.REASON_TRADE_REFUND_FEE_ERR")


def execute(sim: AlipaySimulator, trade: Trade, biz: dict[str, Any], faults: Faults) -> tuple[Refund, bool]:
    """The refund this request names, made or found again; True when money went back on this call."""
    amount = parse_amount(biz.get("refund_amount"), "refund_amount")
    numbered = biz.get("out_request_no") is not None
    number = text_param(biz, "out_request_no", 64) if numbered else trade.out_trade_no
    reason = _reason(biz)
    existing = trade.refunds.get(number)
    if existing is not None:
        if existing.amount != amount:
            raise business("ACQ.DISCORDANT_REPEAT_REQUEST")
        if existing.status != protocol.REFUND_FAIL:
            return existing, False  # the same refund: its state so far, nothing moves again
        # A failed number asked again: Alipay tries that refund once more.
    _check_refundable(trade, amount, numbered=numbered)
    if faults.get(FaultKind.ABNORMAL) is not None:
        trade.buyer_closed = True
    if trade.buyer_closed:
        raise business(ACCOUNT_CLOSED)
    refund = existing or Refund(number, amount, reason, sim.clock.now())
    refund.status, refund.error_code, refund.finished_at = protocol.REFUND_PROCESSING, None, None
    trade.refunds[number] = refund
    processing = faults.get(FaultKind.PROCESSING)
    if processing is not None:
        refund.polls_left = processing.param("polls")
        return refund, False
    succeed(sim, trade, refund)
    return refund, True


def settle(sim: AlipaySimulator, data: dict[str, Any]) -> Trade:
    """``{refund_no, outcome: success | abnormal, out_trade_no?, app_id?}``: finishes a processing refund."""
    check_fields(data, ("refund_no", "outcome"), ("out_trade_no", "app_id"))
    if data["outcome"] not in OUTCOMES:
        raise ControlError(400, "INVALID_REQUEST", "outcome is success or abnormal")
    found = [
        (trade, trade.refunds[data["refund_no"]])
        for trade in sim.trades()
        if data["refund_no"] in trade.refunds
        and data.get("out_trade_no") in (None, trade.out_trade_no)
        and data.get("app_id") in (None, trade.app_id)
    ]
    if not found:
        raise ControlError(404, "REFUND_NOT_EXIST", "no such refund")
    if len(found) > 1:
        raise ControlError(
            409, "AMBIGUOUS_REFUND", "several trades have this refund number: give out_trade_no"
        )
    trade, pending = found[0]
    if pending.status != protocol.REFUND_PROCESSING:
        raise ControlError(409, "REFUND_NOT_PROCESSING", f"the refund is {pending.status}")
    if data["outcome"] == "success":
        succeed(sim, trade, pending)
    else:
        trade.buyer_closed = True
        fail(sim, pending, ACCOUNT_CLOSED)
    return trade
