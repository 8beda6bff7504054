"""The UnionPay simulator's in-memory world: merchants, orders, and what payers do to them.

Orders are keyed as the gateway keys them: ``merId`` + ``orderId`` + ``txnTime``. A front transaction
creates the order when the payer's browser posts it; an unpaid order lapses at ``payTimeout`` (there
is no close). A query answers respCode 34 for an order it does not know or that lapsed unpaid,
respCode 00 with origRespCode 05 for an open one, and origRespCode 00 once it is paid. Refunds of
paid orders are transactions of their own, kept by the refund desk (``state_refunds.py``); a query naming
one reports the refund.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..base.control import ControlError, check_amount
from ..base.lifecycle import SimulatorBase
from ..faults import FaultKind, Faults
from .gateway_errors import GatewayError
from .gateway_validation import check_front, check_query, check_refund
from .notify import BackNotifier
from .state_models import Identity, Merchant, Order, Refund, digits, new_query_id, new_token
from .state_refunds import RefundDesk

DEFAULT_PAY_WINDOW: Final = timedelta(hours=2)
SUCCESS_MSG: Final = "成功[0000000]"


class UnionPaySimulator(SimulatorBase[BackNotifier]):
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        platform_key: rsa.RSAPrivateKey | None = None,
        callback_schedule_s: Sequence[float] = protocol.NOTIFY_RETRY_DELAYS_S,
        http_timeout_s: float = 5.0,
        refund_settle_s: float = 0.5,
    ) -> None:
        self.identity = Identity.create(platform_key)
        super().__init__(
            clock,
            lambda clock, faults: BackNotifier(
                self.identity, clock, faults, callback_schedule_s, http_timeout_s
            ),
        )
        self.refunds = RefundDesk(self.clock, self.notifier, refund_settle_s)
        self.merchants: dict[str, Merchant] = {}
        self._orders: dict[tuple[str, str, str], Order] = {}
        self._by_token: dict[str, Order] = {}
        self._by_query_id: dict[str, Order] = {}

    # -- merchants -------------------------------------------------------------------------------

    def register_merchant(self, mer_id: str, certificate_pem: str) -> dict[str, str]:
        """Register (or replace) a merchant and its signing certificate; returns UnionPay's own."""
        if not isinstance(mer_id, str) or protocol.ORDER_ID.fullmatch(mer_id) is None or len(mer_id) != 15:
            raise ControlError(400, "INVALID_REQUEST", "mer_id must be 15 letters or digits")
        try:
            certificate = protocol.load_certificate(certificate_pem)
            key = protocol.certificate_key(certificate)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ControlError(
                400, "INVALID_REQUEST", "certificate_pem must be a PEM RSA certificate"
            ) from exc
        self.merchants[mer_id] = Merchant(mer_id, protocol.cert_id(certificate), key)
        return {"unionpay_certificate_pem": self.identity.certificate_pem, "cert_id": self.identity.cert_id}

    def _authenticate(self, form: Mapping[str, str]) -> Merchant:
        merchant = self.merchants.get(form.get("merId", ""))
        if merchant is None:
            raise GatewayError("31", "商户状态不正确[merId]")
        if form.get("certId") != merchant.cert_id or not protocol.verify(merchant.public_key, form):
            raise GatewayError("11", "验证签名失败")
        return merchant

    # -- the merchant's gateway calls ------------------------------------------------------------

    def front_transaction(self, form: Mapping[str, str]) -> Order:
        check_front(form)
        merchant = self._authenticate(form)
        key = (merchant.mer_id, form["orderId"], form["txnTime"])
        request = {k: v for k, v in form.items() if k != "signature"}
        existing = self._orders.get(key)
        if existing is not None:
            if existing.request != request or existing.paid:
                raise GatewayError("12", "重复交易")
            return existing  # the payer's browser posted the same form again
        now = self.clock.now()
        timeout = form.get("payTimeout")
        pay_timeout = protocol.parse_time(timeout) if timeout else now + DEFAULT_PAY_WINDOW
        if pay_timeout <= now:
            raise GatewayError("30", "订单已超时[payTimeout]")
        order = Order(
            mer_id=merchant.mer_id,
            order_id=form["orderId"],
            txn_time=form["txnTime"],
            txn_amt=int(form["txnAmt"]),
            channel_type=form["channelType"],
            front_url=form.get("frontUrl", ""),
            back_url=form.get("backUrl", ""),
            pay_timeout=pay_timeout,
            created_at=now,
            request=request,
            token=new_token(),
        )
        self._orders[key] = order
        self._by_token[order.token] = order
        return order

    def query(self, form: Mapping[str, str], faults: Faults) -> dict[str, str]:
        """The (unsigned) answer to a query; GatewayError for a refused one."""
        check_query(form)
        merchant = self._authenticate(form)
        base = {
            "version": protocol.VERSION,
            "encoding": protocol.ENCODING,
            "signMethod": protocol.SIGN_METHOD,
            "txnType": protocol.TXN_QUERY[0],
            "txnSubType": protocol.TXN_QUERY[1],
            "bizType": protocol.BIZ_TYPE,
            "accessType": protocol.ACCESS_TYPE,
            "merId": merchant.mer_id,
            "orderId": form["orderId"],
            "txnTime": form["txnTime"],
        }
        refund = self.refunds.get((merchant.mer_id, form["orderId"], form["txnTime"]))
        if refund is not None:
            return {**self.refunds.queried(refund), **base, **_ok()}
        order = self._orders.get((merchant.mer_id, form["orderId"], form["txnTime"]))
        if order is None or (not order.paid and order.expired(self.clock.now())):
            return {**base, "respCode": protocol.RESP_NO_SUCH_ORDER, "respMsg": "查无此交易[2011000]"}
        if not order.paid:
            return {**order.result(), **base, **_ok(), "origRespCode": "05", "origRespMsg": "交易已受理"}
        order.queries += 1
        processing = faults.get(FaultKind.PROCESSING)
        if processing is not None and order.queries <= processing.param("polls"):
            return {**order.result(), **base, **_ok(), "origRespCode": "05", "origRespMsg": "交易处理中"}
        wrong = faults.get(FaultKind.WRONG_AMOUNT)
        answer = order.result(wrong.param("delta") if wrong else 0)
        return {**answer, **base, **_ok(), "origRespCode": "00", "origRespMsg": SUCCESS_MSG}

    def names_refund(self, form: Mapping[str, str]) -> bool:
        """Whether a query is about a refund (its faults are drawn as "refund_query")."""
        key = (form.get("merId", ""), form.get("orderId", ""), form.get("txnTime", ""))
        return self.refunds.get(key) is not None

    def refund(self, form: Mapping[str, str], faults: Faults) -> dict[str, str]:
        """The (unsigned) answer to a refund request; GatewayError for a refused one."""
        check_refund(form)
        merchant = self._authenticate(form)
        if (merchant.mer_id, form["orderId"], form["txnTime"]) in self._orders:
            raise GatewayError(protocol.RESP_DUPLICATE, "重复交易")
        original = self._by_query_id.get(form["origQryId"])
        if original is not None and original.mer_id != merchant.mer_id:
            original = None  # another merchant's payment is not this merchant's to refund
        return self.refunds.answer(self.refunds.submit(form, original, faults))

    def find_refund(self, selector: Mapping[str, Any]) -> Refund:
        return self.refunds.find(selector)

    def settle_refund(self, refund: Refund, outcome: Any) -> Refund:
        if outcome not in ("success", "abnormal"):
            raise ControlError(400, "INVALID_REQUEST", "outcome is success or abnormal")
        return self.refunds.settle(refund, success=outcome == "success")

    # -- the payer -------------------------------------------------------------------------------

    def by_token(self, token: str) -> Order:
        order = self._by_token.get(token)
        if order is None:
            raise ControlError(404, "ORDER_NOT_EXIST", "no such order")
        return order

    def find_order(self, selector: Mapping[str, Any]) -> Order:
        """``out_trade_no`` (the orderId), narrowed by ``mer_id`` and ``txn_time`` when ambiguous."""
        order_id = selector.get("out_trade_no")
        if not isinstance(order_id, str) or not order_id:
            raise ControlError(400, "INVALID_REQUEST", "out_trade_no (the orderId) is required")
        found = [
            order
            for (mer_id, oid, txn_time), order in self._orders.items()
            if oid == order_id
            and selector.get("mer_id") in (None, mer_id)
            and selector.get("txn_time") in (None, txn_time)
        ]
        if not found:
            raise ControlError(404, "ORDER_NOT_EXIST", f"no order with orderId {order_id}")
        if len(found) > 1:
            raise ControlError(409, "AMBIGUOUS_ORDER", "several orders match; give mer_id and txn_time")
        return found[0]

    def _payable(self, order: Order) -> None:
        if order.paid:
            raise ControlError(409, "ORDER_PAID", "the order is already paid")
        if order.expired(self.clock.now()):
            raise ControlError(400, "ORDER_EXPIRED", "the order's payTimeout has passed")

    def pay(self, order: Order, *, amount: int | None = None) -> Order:
        """The payer pays (``amount`` fen if given); the back notify starts in the background."""
        self._payable(order)
        check_amount(amount)
        now = self.clock.now().astimezone(protocol.BEIJING)
        order.paid_amount = order.txn_amt if amount is None else amount
        order.query_id = new_query_id(now)
        order.trace_no = digits(6)
        order.trace_time = f"{now:%m%d%H%M%S}"
        order.settle_date = f"{now:%m%d}"
        order.state = "PAID"
        self._by_query_id[order.query_id] = order
        if order.back_url:
            self.notifier.notify(order)
        return order

    def cancel(self, order: Order) -> Order:
        """The payer gave up on the gateway's page. Nothing reaches the merchant; the order stays
        payable until its payTimeout, as a real payer may come back."""
        self._payable(order)
        order.state = "ABANDONED"
        return order

    def front_result(self, order: Order) -> dict[str, str]:
        """The signed result the payer's browser posts to ``frontUrl``."""
        return self.identity.sign(order.result())


def _ok() -> dict[str, str]:
    return {"respCode": protocol.RESP_SUCCESS, "respMsg": SUCCESS_MSG}
