"""Refunds (退货) at the UnionPay simulator: back transactions that return part or all of a paid order.

``backTransReq.do`` with ``txnType`` 04 names the consumption it returns by that one's ``queryId``
(``origQryId``) and is itself a transaction named by ``merId`` + ``orderId`` + ``txnTime``. The
gateway answers respCode 00 at once: accepted, not done. ``settle_after_s`` later the refund
succeeds (or, under an "abnormal" fault, fails: the cardholder's card is closed) and the result goes
to its ``backUrl`` as a signed back notify. A "processing" fault holds it at ``origRespCode`` 05 for
``polls`` queries; the next query settles it (and the notify goes then).

Refused at once: 35 when the consumption is unknown or unpaid, 33 when the amount exceeds what is
left of it (refunds that failed give their amount back), 12 when the orderId is taken by another
refund or a payment. The same refund submitted again (same orderId, txnTime, origQryId and amount)
gets the same answer and nothing more goes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..base.control import ControlError
from ..faults import FaultKind, Faults
from .gateway_errors import GatewayError
from .notify import BackNotifier
from .state_models import Order, Refund, RefundStatus, digits, new_query_id

SUCCESS: Final = (protocol.RESP_SUCCESS, "成功[0000000]")
# The card the payment came from is closed or frozen: the issuer cannot take the money back.
CARD_CLOSED: Final = ("63", "卡状态不正确[持卡人账户已销户或冻结，退货无法入账]")
PROCESSING_MSG: Final = "交易已受理，请稍后查询交易结果"

Key = tuple[str, str, str]  # merId, orderId, txnTime


class RefundDesk:
    def __init__(self, clock: Clock, notifier: BackNotifier, settle_after_s: float) -> None:
        self._clock = clock
        self._notifier = notifier
        self._settle_after_s = settle_after_s
        self._refunds: dict[Key, Refund] = {}

    def get(self, key: Key) -> Refund | None:
        return self._refunds.get(key)

    def submit(self, form: Mapping[str, str], original: Order | None, faults: Faults) -> Refund:
        """A checked, authenticated refund request -> the refund (new, or the same one again)."""
        key = (form["merId"], form["orderId"], form["txnTime"])
        amount = int(form["txnAmt"])
        existing = self._refunds.get(key)
        if existing is not None:
            if existing.original.query_id != form["origQryId"] or existing.txn_amt != amount:
                raise GatewayError(protocol.RESP_DUPLICATE, "重复交易")
            return existing
        if original is None or not original.paid:
            raise GatewayError("35", "原交易不存在或状态不正确")
        if amount > original.refundable():
            raise GatewayError("33", "交易金额超限[退货金额超过原交易可退金额]")
        now = self._clock.now()
        processing = faults.get(FaultKind.PROCESSING)
        refund = Refund(
            mer_id=form["merId"],
            order_id=form["orderId"],
            txn_time=form["txnTime"],
            txn_amt=amount,
            channel_type=form["channelType"],
            back_url=form["backUrl"],
            original=original,
            query_id=new_query_id(now),
            created_at=now,
            resp_msg=PROCESSING_MSG,
            held_polls=processing.param("polls") if processing is not None else None,
            abnormal=faults.get(FaultKind.ABNORMAL) is not None,
        )
        self._refunds[key] = refund
        original.refunds.append(refund)
        if refund.held_polls is None:
            self._settle_later(refund)
        return refund

    @staticmethod
    def answer(refund: Refund) -> dict[str, str]:
        """The synchronous answer (unsigned): accepted, whatever has happened to it since."""
        fields = {
            k: v
            for k, v in refund.result().items()
            if k not in ("traceNo", "traceTime", "settleDate", "settleAmt", "settleCurrencyCode")
        }
        return {**fields, "respCode": SUCCESS[0], "respMsg": SUCCESS[1]}

    def queried(self, refund: Refund) -> dict[str, str]:
        """The refund as a query reports it (unsigned, before the query's own fields go on top)."""
        if refund.processing and refund.held_polls is not None:
            if refund.held_polls > 0:
                refund.held_polls -= 1
            else:
                self.settle(refund, success=not refund.abnormal)
        return {**refund.result(), "origRespCode": refund.resp_code, "origRespMsg": refund.resp_msg}

    def settle(self, refund: Refund, *, success: bool) -> Refund:
        """Finish a processing refund now and send its back notify."""
        if not refund.processing:
            raise ControlError(409, "REFUND_FINISHED", f"the refund is already {refund.status.value}")
        now = self._clock.now()
        beijing = now.astimezone(protocol.BEIJING)
        refund.status = RefundStatus.SUCCESS if success else RefundStatus.FAILED
        refund.resp_code, refund.resp_msg = SUCCESS if success else CARD_CLOSED
        refund.trace_no = digits(6)
        refund.trace_time = f"{beijing:%m%d%H%M%S}"
        refund.settle_date = f"{beijing:%m%d}"
        refund.finished_at = now
        refund.held_polls = None
        if refund.back_url:
            self._notifier.notify_refund(refund)
        return refund

    def find(self, selector: Mapping[str, Any]) -> Refund:
        """``refund_no`` (the refund's orderId), narrowed by ``mer_id`` and ``txn_time`` when ambiguous."""
        order_id = selector.get("refund_no")
        if not isinstance(order_id, str) or not order_id:
            raise ControlError(400, "INVALID_REQUEST", "refund_no (the refund's orderId) is required")
        found = [
            refund
            for (mer_id, oid, txn_time), refund in self._refunds.items()
            if oid == order_id
            and selector.get("mer_id") in (None, mer_id)
            and selector.get("txn_time") in (None, txn_time)
        ]
        if not found:
            raise ControlError(404, "REFUND_NOT_EXIST", f"no refund with orderId {order_id}")
        if len(found) > 1:
            raise ControlError(409, "AMBIGUOUS_REFUND", "several refunds match; give mer_id and txn_time")
        return found[0]

    # -- settling in the background --------------------------------------------------------------

    def _settle_later(self, refund: Refund) -> None:
        def settle() -> None:
            if refund.processing:  # unless the control API settled it meanwhile
                self.settle(refund, success=not refund.abnormal)

        # In the background like a delivery: the notifier's wait_idle waits for it, aclose cancels it.
        self._notifier.after(self._settle_after_s, settle)
