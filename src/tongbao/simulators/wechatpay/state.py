"""The simulator's in-memory world: merchants, orders, refunds, and what payers and merchants do to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.clock import Clock

from ..base.control import ControlError, check_amount
from ..base.lifecycle import SimulatorBase
from .gateway_errors import WeChatApiError, invalid_request, order_not_exist, param_error, resource_not_exists
from .gateway_validation import CreateRequest, RefundApply
from .notify import WECHAT_CALLBACK_SCHEDULE_S, CallbackSender
from .state_models import (
    Merchant,
    Order,
    Refund,
    Verification,
    new_code_url,
    new_openid,
    new_prepay_id,
    new_transaction_id,
)
from .state_platform import PlatformIdentity
from .state_refunds import DEFAULT_REFUND_DELAY_S, RefundDesk

DEFAULT_EXPIRY: Final = timedelta(hours=2)
_SELECTORS: Final = ("out_trade_no", "code_url", "prepay_id")


def _load_public_key(pem: str) -> rsa.RSAPublicKey:
    """A merchant's key as a PEM public key or, for convenience, the certificate that holds it."""
    data = pem.encode()
    try:
        key = (
            x509.load_pem_x509_certificate(data).public_key()
            if b"CERTIFICATE" in data
            else serialization.load_pem_public_key(data)
        )
    except ValueError as exc:
        raise ControlError(400, "INVALID_REQUEST", "public_key_pem is not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ControlError(400, "INVALID_REQUEST", "public_key_pem must be an RSA key")
    return key


def _required_text(name: str, value: Any, max_len: int = 64) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ControlError(400, "INVALID_REQUEST", f"{name} must be a non-empty string of at most {max_len}")
    return value


class WeChatPaySimulator(SimulatorBase[CallbackSender]):
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        platform_key: rsa.RSAPrivateKey | None = None,
        callback_schedule_s: Sequence[float] = WECHAT_CALLBACK_SCHEDULE_S,
        http_timeout_s: float = 5.0,
        refund_delay_s: float = DEFAULT_REFUND_DELAY_S,
    ) -> None:
        self.platform = PlatformIdentity.create(platform_key)
        super().__init__(
            clock,
            lambda clock, faults: CallbackSender(
                self.platform, clock, faults, callback_schedule_s, http_timeout_s
            ),
        )
        self.merchants: dict[str, Merchant] = {}
        self.refunds = RefundDesk(self.clock, self.notifier, self.merchants, refund_delay_s)
        self._orders: dict[tuple[str, str], Order] = {}
        self._by_transaction_id: dict[str, Order] = {}
        self._by_code_url: dict[str, Order] = {}
        self._by_prepay_id: dict[str, Order] = {}

    # -- merchants -------------------------------------------------------------------------------

    def register_merchant(
        self,
        mchid: str,
        appid: str,
        serial_no: str,
        public_key_pem: str,
        *,
        apiv3_key: str,
        platform_verification: str = "public_key",
    ) -> dict[str, str]:
        """Register (or replace) a merchant; returns the platform key as that merchant will know it."""
        _required_text("mchid", mchid, 32)
        _required_text("appid", appid, 32)
        _required_text("serial_no", serial_no)
        _required_text("public_key_pem", public_key_pem, 16384)
        if not isinstance(apiv3_key, str) or not apiv3_key.isascii() or len(apiv3_key) != 32:
            raise ControlError(400, "INVALID_REQUEST", "apiv3_key must be 32 ASCII characters")
        if platform_verification not in ("public_key", "certificate"):
            raise ControlError(
                400, "INVALID_REQUEST", "platform_verification is 'public_key' or 'certificate'"
            )
        verification: Verification = "public_key" if platform_verification == "public_key" else "certificate"
        self.merchants[mchid] = Merchant(
            mchid, appid, serial_no, _load_public_key(public_key_pem), apiv3_key.encode(), verification
        )
        return {
            "platform_public_key_pem": self.platform.public_key_pem,
            "platform_public_key_id": self.platform.public_key_id,
            "platform_certificate_pem": self.platform.certificate_pem,
            "platform_serial": self.platform.serial,
        }

    # -- the merchant's v3 calls -----------------------------------------------------------------

    def create_order(
        self, merchant: Merchant, request: CreateRequest, payer_page_url: Callable[[str], str]
    ) -> dict[str, str]:
        if request.mchid != merchant.mchid:
            raise param_error("/mchid", "与请求签名中的商户号不一致", request.mchid)
        if request.appid != merchant.appid:
            raise WeChatApiError(400, "APPID_MCHID_NOT_MATCH", "AppID和mch_id不匹配")
        existing = self._orders.get((merchant.mchid, request.out_trade_no))
        if existing is not None:
            if existing.request != request.fingerprint():
                raise WeChatApiError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            if existing.paid:
                raise WeChatApiError(400, "ORDERPAID", "订单已支付")
            if existing.trade_state == "CLOSED":
                raise WeChatApiError(400, "ORDER_CLOSED", "订单已关闭")
            return existing.answer
        now = self.clock.now()
        prepay_id = new_prepay_id(now)
        if request.kind == "native":
            answer = {"code_url": new_code_url()}
        elif request.kind == "h5":
            answer = {"h5_url": payer_page_url(prepay_id)}
        else:
            answer = {"prepay_id": prepay_id}
        order = Order(
            mchid=merchant.mchid,
            appid=request.appid,
            out_trade_no=request.out_trade_no,
            kind=request.kind,
            description=request.description,
            total=request.total,
            currency=request.currency,
            attach=request.attach,
            notify_url=request.notify_url,
            time_expire=request.time_expire or now + DEFAULT_EXPIRY,
            created_at=now,
            request=request.fingerprint(),
            answer=answer,
            prepay_id=prepay_id,
            code_url=answer.get("code_url"),
            payer_openid=request.openid,
        )
        self._orders[(order.mchid, order.out_trade_no)] = order
        self._by_prepay_id[prepay_id] = order
        if order.code_url:
            self._by_code_url[order.code_url] = order
        return answer

    def order(self, mchid: str, out_trade_no: str) -> Order:
        order = self._orders.get((mchid, out_trade_no))
        if order is None:
            raise order_not_exist()
        return order

    def order_by_transaction_id(self, mchid: str, transaction_id: str) -> Order:
        order = self._by_transaction_id.get(transaction_id)
        if order is None or order.mchid != mchid:
            raise order_not_exist()
        return order

    def close_order(self, mchid: str, out_trade_no: str) -> None:
        order = self.order(mchid, out_trade_no)
        if order.paid:
            raise WeChatApiError(400, "ORDERPAID", "订单已支付")
        order.set_state("CLOSED")

    def apply_refund(
        self, merchant: Merchant, request: RefundApply, *, polls: int = 0, abnormal: bool = False
    ) -> Refund:
        """A refund of one of the merchant's paid orders, named by transaction_id or out_trade_no."""
        if request.transaction_id is not None:
            order = self._by_transaction_id.get(request.transaction_id)
            if order is not None and request.out_trade_no not in (None, order.out_trade_no):
                raise invalid_request("transaction_id和out_trade_no不匹配")
        else:
            order = self._orders.get((merchant.mchid, request.out_trade_no or ""))
        # Unknown and unpaid orders get the same answer: "未支付的订单不能发起退款".
        if order is None or order.mchid != merchant.mchid or not order.paid:
            raise resource_not_exists("订单不存在")
        return self.refunds.apply(order, request, polls=polls, abnormal=abnormal)

    # -- the payer -------------------------------------------------------------------------------

    def find_order(self, selector: Mapping[str, Any]) -> Order:
        """The order a payer points at: ``out_trade_no`` (with ``mchid`` if ambiguous), ``code_url`` or
        ``prepay_id``."""
        given = [name for name in _SELECTORS if selector.get(name)]
        if len(given) != 1:
            raise ControlError(
                400, "INVALID_REQUEST", "give exactly one of out_trade_no, code_url, prepay_id"
            )
        name = given[0]
        value = selector[name]
        if not isinstance(value, str):
            raise ControlError(400, "INVALID_REQUEST", f"{name} must be a string")
        if name == "code_url":
            found = [self._by_code_url[value]] if value in self._by_code_url else []
        elif name == "prepay_id":
            found = [self._by_prepay_id[value]] if value in self._by_prepay_id else []
        else:
            mchid = selector.get("mchid")
            found = [o for (m, no), o in self._orders.items() if no == value and mchid in (None, m)]
        if not found:
            raise ControlError(404, "ORDER_NOT_EXIST", f"no order with {name} {value}")
        if len(found) > 1:
            raise ControlError(409, "AMBIGUOUS_ORDER", f"several merchants have {value}; give mchid too")
        return found[0]

    def _payable(self, order: Order) -> None:
        if order.paid:
            raise ControlError(409, "ORDER_PAID", "the order is already paid")
        if order.trade_state == "CLOSED":
            raise ControlError(409, "ORDER_CLOSED", "the order is closed")
        if order.expired(self.clock.now()):
            raise ControlError(400, "ORDER_EXPIRED", "the order's time_expire has passed")

    def pay(self, order: Order, *, amount: int | None = None, openid: str | None = None) -> Order:
        """The payer pays (``amount`` fen if given, else the order's total); the notification starts
        in the background. A payer who gave up earlier (PAYERROR) may still pay."""
        self._payable(order)
        check_amount(amount)
        now = self.clock.now()
        if amount is not None:
            order.total = amount
        order.payer_openid = openid or order.payer_openid or new_openid()
        order.transaction_id = new_transaction_id(now)
        order.success_time = now
        order.bank_type = "OTHERS"
        order.set_state("SUCCESS")
        self._by_transaction_id[order.transaction_id] = order
        merchant = self.merchants.get(order.mchid)
        if merchant is not None:
            self.notifier.notify(order, merchant)
        return order

    def cancel(self, order: Order) -> Order:
        """The payer gave up at the payment prompt. Real WeChat keeps such an order open (the merchant
        may close it or let it expire); the simulator records PAYERROR "用户取消支付" so that the
        merchant's query sees the attempt, sends no notification, and still lets the payer pay later."""
        self._payable(order)
        order.set_state("PAYERROR", "用户取消支付")
        return order
