"""Refunds at the simulated WeChat Pay: submitted, queried, and finished by themselves, by queries or
by the control API.

A new refund answers PROCESSING, as WeChat's does, and finishes ``delay_s`` later in the background:
SUCCESS (money back in the payer's change) unless the plan said "abnormal" (the payer's card was found
closed or frozen: ABNORMAL). A refund hit by the "processing" fault instead stays PROCESSING for
``polls`` queries of it and finishes on the next one. Finishing sends the refund callback, if the
merchant gave a notify_url. The same out_refund_no again, for the same order and amount, is the same
refund: no second one is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from tongbao.clock import Clock

from ..base.control import ControlError
from .gateway_errors import invalid_request, resource_not_exists
from .gateway_validation import RefundApply
from .notify import CallbackSender
from .state_models import TO_CARD, TO_CHANGE, Merchant, Order, Refund, new_refund_id

# WeChat's limits: a refund within a year of the payment, at most 50 refunds per order.
REFUND_WINDOW: Final = timedelta(days=365)
MAX_REFUNDS_PER_ORDER: Final = 50
DEFAULT_REFUND_DELAY_S: Final = 0.5
OUTCOMES: Final = {"success": "SUCCESS", "abnormal": "ABNORMAL"}


class RefundDesk:
    """The refunds of one simulator, by (mchid, out_refund_no); each also hangs on its order."""

    def __init__(
        self,
        clock: Clock,
        callbacks: CallbackSender,
        merchants: Mapping[str, Merchant],
        delay_s: float = DEFAULT_REFUND_DELAY_S,
    ) -> None:
        self._clock = clock
        self._callbacks = callbacks
        self._merchants = merchants
        self._delay_s = delay_s
        self._refunds: dict[tuple[str, str], Refund] = {}

    def apply(self, order: Order, request: RefundApply, *, polls: int = 0, abnormal: bool = False) -> Refund:
        """A refund of ``order`` (already found paid, for this merchant) as ``request`` asks.

        ``polls`` and ``abnormal`` are the plan's faults: how many queries it stays processing for,
        and whether it finishes ABNORMAL; they shape only a new refund, never a repeat."""
        existing = self._refunds.get((order.mchid, request.out_refund_no))
        if existing is not None:
            if existing.order is not order:
                raise invalid_request("商户退款单号已被其他订单使用，请更换商户退款单号")
            if existing.amount != request.refund:
                raise invalid_request("同一商户退款单号的退款金额要一致")
            return existing
        self._check(order, request)
        now = self._clock.now()
        refund = Refund(
            order=order,
            out_refund_no=request.out_refund_no,
            refund_id=new_refund_id(now),
            amount=request.refund,
            reason=request.reason,
            notify_url=request.notify_url,
            funds_account=request.funds_account,
            created_at=now,
            outcome="ABNORMAL" if abnormal else "SUCCESS",
            polls_left=polls,
            user_received_account=TO_CARD if abnormal else TO_CHANGE,
        )
        self._refunds[(order.mchid, refund.out_refund_no)] = refund
        order.refunds.append(refund)
        if not polls:
            self._callbacks.after(self._delay_s, lambda: self._finish_if_processing(refund))
        return refund

    def _check(self, order: Order, request: RefundApply) -> None:
        if request.total != order.total:
            raise invalid_request("订单金额与原订单金额不一致")
        if order.success_time is not None and self._clock.now() > order.success_time + REFUND_WINDOW:
            raise invalid_request("订单已经超过退款期限")
        if len(order.refunds) >= MAX_REFUNDS_PER_ORDER:
            raise invalid_request(f"该订单的退款次数已超过{MAX_REFUNDS_PER_ORDER}次")
        left = order.refundable
        if left == 0:
            raise invalid_request("订单已全额退款")
        if request.refund > left:
            raise invalid_request("申请退款金额超过订单可退金额")

    def query(self, mchid: str, out_refund_no: str) -> Refund:
        """The merchant asks: a refund held PROCESSING by the plan counts the query down, then finishes."""
        refund = self._refunds.get((mchid, out_refund_no))
        if refund is None:
            raise resource_not_exists("退款单不存在")
        if not refund.finished:
            if refund.polls_left > 0:
                refund.polls_left -= 1
            else:
                self._finish(refund, refund.outcome)
        return refund

    def find(self, out_refund_no: object, mchid: object = None) -> Refund:
        """The refund the control API points at: ``refund_no`` (with ``mchid`` if ambiguous)."""
        if not isinstance(out_refund_no, str) or not out_refund_no:
            raise ControlError(400, "INVALID_REQUEST", "refund_no must be a non-empty string")
        if mchid is not None and not isinstance(mchid, str):
            raise ControlError(400, "INVALID_REQUEST", "mchid must be a string")
        found = [r for (m, no), r in self._refunds.items() if no == out_refund_no and mchid in (None, m)]
        if not found:
            raise ControlError(404, "REFUND_NOT_EXIST", f"no refund with refund_no {out_refund_no}")
        if len(found) > 1:
            raise ControlError(409, "AMBIGUOUS_REFUND", f"several merchants have {out_refund_no}; give mchid")
        return found[0]

    def settle(self, refund: Refund, outcome: object) -> Refund:
        """Finish a processing refund now ("success" | "abnormal"), callback included."""
        status = OUTCOMES.get(outcome) if isinstance(outcome, str) else None
        if status is None:
            raise ControlError(400, "INVALID_REQUEST", "outcome is 'success' or 'abnormal'")
        if refund.finished:
            raise ControlError(409, "REFUND_FINISHED", f"the refund is already {refund.status}")
        if status == "ABNORMAL":
            refund.user_received_account = TO_CARD
        self._finish(refund, status)
        return refund

    def _finish_if_processing(self, refund: Refund) -> None:
        # The background finish comes late: a query or the control API may have finished it already.
        if not refund.finished:
            self._finish(refund, refund.outcome)

    def _finish(self, refund: Refund, status: str) -> None:
        refund.status = status
        refund.polls_left = 0
        refund.finished_at = self._clock.now()
        if status == "SUCCESS":
            refund.order.set_state("REFUND")
        merchant = self._merchants.get(refund.order.mchid)
        if merchant is not None:
            self._callbacks.notify_refund(refund, merchant)
