"""Alipay OpenAPI, spoken for one channel account: orders, queries, closes, barcode charges, refunds,
notifications.

Amounts are yuan strings with two decimals on the wire. A timeout, a connection failure, a 5xx, code
20000 or an answer whose signature does not verify are *unknown* outcomes (the trade may exist); code
40004 with a ``sub_code`` is a definite refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from tongbao.channels.alipay import protocol, refunds
from tongbao.channels.base import (
    Action,
    ChannelRejected,
    ChannelUnknownOutcome,
    NotificationRejected,
    OrderAlreadyPaid,
    OrderRequest,
    OrderState,
    OrderStatus,
    RefundRequest,
    RefundResult,
    RefundState,
    Reply,
)
from tongbao.channels.kinds import Channel, Method
from tongbao.clock import Clock
from tongbao.money import fen_to_yuan, yuan_to_fen

TRADE_STATES: Final = {
    "WAIT_BUYER_PAY": OrderState.NOT_PAID,
    "TRADE_SUCCESS": OrderState.SUCCEEDED,
    "TRADE_FINISHED": OrderState.SUCCEEDED,  # paid, and past the refund window: the capture happened
    "TRADE_CLOSED": OrderState.CLOSED,  # closed unpaid, or fully refunded / cancelled after payment
}
# Methods answered by the payer's browser or wallet: the request is signed here and never sent by us.
CLIENT_METHODS: Final = {
    Method.ALIPAY_PAGE: ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    Method.ALIPAY_WAP: ("alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    Method.ALIPAY_APP: ("alipay.trade.app.pay", "QUICK_MSECURITY_PAY"),
}
CURRENCY: Final = "CNY"


class AlipayAdapter:
    channel = Channel.ALIPAY

    def __init__(
        self,
        *,
        account_id: str,
        base_url: str,
        config: Mapping[str, str],
        credentials: Mapping[str, str],
        http: httpx.AsyncClient,
        clock: Clock,
    ) -> None:
        self.account_id = account_id
        self.gateway_url = base_url
        self.app_id = config["app_id"]
        public_key = load_pem_public_key(config["alipay_public_key_pem"].encode())
        private_key = load_pem_private_key(credentials["app_private_key_pem"].encode(), password=None)
        # Both were checked when the account was saved.
        assert isinstance(public_key, rsa.RSAPublicKey) and isinstance(private_key, rsa.RSAPrivateKey)
        self.alipay_key = public_key
        self.private_key = private_key
        self.http = http
        self.clock = clock

    # -- requests --------------------------------------------------------------------------------

    def _params(self, method: str, biz: Mapping[str, Any], **extra: str | None) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": protocol.CHARSET,
            "sign_type": protocol.SIGN_TYPE,
            "timestamp": protocol.format_time(self.clock.now()),
            "version": protocol.VERSION,
            "biz_content": protocol.biz_json(biz),
        }
        params.update({name: value for name, value in extra.items() if value})
        return protocol.signed(self.private_key, params)

    async def _call(self, method: str, biz: Mapping[str, Any], **extra: str | None) -> dict[str, Any]:
        """Sends one request; returns the verified response node (any code but 20000)."""
        data = self._params(method, biz, **extra)
        try:
            response = await self.http.post(
                self.gateway_url,
                data=data,
                headers={"Accept": "application/json", "User-Agent": "tongbao"},
            )
        except httpx.TimeoutException as exc:
            raise ChannelUnknownOutcome("timeout", f"no answer from Alipay: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ChannelUnknownOutcome("network", f"could not reach Alipay: {exc!r}") from exc
        if response.status_code != 200:
            raise ChannelUnknownOutcome(f"http_{response.status_code}", response.text[:300])
        try:
            text = response.content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ChannelUnknownOutcome("bad_answer", "the answer is not utf-8") from exc
        node = self._verified_node(text, protocol.response_node(method))
        code = node.get("code")
        if code == protocol.CODE_UNAVAILABLE:
            raise ChannelUnknownOutcome(str(node.get("sub_code") or code), str(node.get("sub_msg", "")))
        if code not in (protocol.CODE_SUCCESS, protocol.CODE_WAITING, protocol.CODE_BUSINESS):
            # 40001/40002/40003/40006: refused at the gate (parameters, signature, permissions).
            raise ChannelRejected(
                str(node.get("sub_code") or code), str(node.get("sub_msg") or node.get("msg"))
            )
        return node

    def _verified_node(self, text: str, node_name: str) -> dict[str, Any]:
        try:
            spans = protocol.top_level_spans(text)
        except ValueError as exc:
            raise ChannelUnknownOutcome("bad_answer", f"the answer is not a JSON object: {exc}") from exc
        name = node_name if node_name in spans else "error_response"
        if name not in spans or "sign" not in spans:
            raise ChannelUnknownOutcome("bad_answer", f"the answer lacks {node_name} or its sign")
        node_text = text[slice(*spans[name])]
        signature = json.loads(text[slice(*spans["sign"])])
        if not isinstance(signature, str) or not protocol.verify_text(self.alipay_key, node_text, signature):
            raise ChannelUnknownOutcome("bad_signature", "the answer's signature does not verify")
        node = json.loads(node_text)
        if not isinstance(node, dict):
            raise ChannelUnknownOutcome("bad_answer", "the response node is not an object")
        return node

    @staticmethod
    def _refusal(node: Mapping[str, Any]) -> ChannelRejected:
        code = str(node.get("sub_code") or node.get("code"))
        message = str(node.get("sub_msg") or node.get("msg") or "")
        if code == "ACQ.TRADE_HAS_SUCCESS":
            return OrderAlreadyPaid(code, message)
        return ChannelRejected(code, message)

    # -- orders ----------------------------------------------------------------------------------

    def _biz(self, order: OrderRequest, product_code: str) -> dict[str, Any]:
        if order.currency != CURRENCY:
            raise ChannelRejected("CURRENCY_UNSUPPORTED", "Alipay domestic trades are in CNY")
        return {
            "out_trade_no": order.order_no,
            "total_amount": fen_to_yuan(order.amount),
            "subject": order.subject,
            "product_code": product_code,
            "time_expire": protocol.format_time(order.expires_at),
        }

    async def create(self, order: OrderRequest) -> Action:
        if order.method is Method.ALIPAY_QR:
            biz = self._biz(order, "FACE_TO_FACE_PAYMENT")
            node = await self._call("alipay.trade.precreate", biz, notify_url=order.notify_url)
            if node.get("code") != protocol.CODE_SUCCESS:
                raise self._refusal(node)
            if node.get("out_trade_no") != order.order_no:
                raise ChannelUnknownOutcome("bad_answer", "the answer is about another order")
            return Action("qr_code", {"qr_code": self._text(node, "qr_code")})
        if order.method not in CLIENT_METHODS:
            raise ChannelRejected("METHOD_UNSUPPORTED", f"{order.method} is not an Alipay method")
        method, product_code = CLIENT_METHODS[order.method]
        params = self._params(
            method,
            self._biz(order, product_code),
            notify_url=order.notify_url,
            return_url=order.return_url if order.method is not Method.ALIPAY_APP else None,
        )
        if order.method is Method.ALIPAY_APP:
            return Action("app", {"order_string": protocol.query_string(params)})
        separator = "&" if "?" in self.gateway_url else "?"
        return Action("redirect", {"url": self.gateway_url + separator + protocol.query_string(params)})

    async def query(self, order_no: str) -> OrderStatus:
        node = await self._call("alipay.trade.query", {"out_trade_no": order_no})
        if node.get("code") == protocol.CODE_BUSINESS and node.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return OrderStatus(order_no, OrderState.NOT_FOUND, raw=node)
        if node.get("code") != protocol.CODE_SUCCESS:
            raise self._refusal(node)
        return self._status(node, order_no, ChannelUnknownOutcome)

    async def close(self, order_no: str) -> None:
        node = await self._call("alipay.trade.close", {"out_trade_no": order_no})
        if node.get("code") == protocol.CODE_SUCCESS:
            return
        sub_code = node.get("sub_code")
        if sub_code == "ACQ.TRADE_NOT_EXIST":
            return  # never created at the channel: nothing to close
        if sub_code == "ACQ.TRADE_STATUS_ERROR":
            # Only a trade waiting for payment can be closed: ask which state it is in.
            status = await self.query(order_no)
            if status.state is OrderState.SUCCEEDED:
                raise OrderAlreadyPaid("ACQ.TRADE_HAS_SUCCESS", "the trade is already paid")
            if status.state in (OrderState.CLOSED, OrderState.NOT_FOUND):
                return
        raise self._refusal(node)

    async def charge(self, order: OrderRequest) -> OrderStatus:
        if order.method is not Method.ALIPAY_BARCODE:
            raise ChannelRejected("METHOD_UNSUPPORTED", f"{order.method} is not a barcode method")
        if not order.auth_code or not protocol.AUTH_CODE.fullmatch(order.auth_code):
            raise ChannelRejected("INVALID_AUTH_CODE", "an Alipay barcode is 16-24 digits starting 25-30")
        biz = self._biz(order, "FACE_TO_FACE_PAYMENT")
        biz.update(scene="bar_code", auth_code=order.auth_code)
        node = await self._call("alipay.trade.pay", biz, notify_url=order.notify_url)
        code = node.get("code")
        if code == protocol.CODE_WAITING:
            trade_no = node.get("trade_no")
            return OrderStatus(
                order.order_no,
                OrderState.PAYING,
                channel_trade_no=trade_no if isinstance(trade_no, str) and trade_no else None,
                raw=node,
            )
        if code != protocol.CODE_SUCCESS:
            raise self._refusal(node)
        return self._status({**node, "trade_status": "TRADE_SUCCESS"}, order.order_no, ChannelUnknownOutcome)

    async def cancel(self, order_no: str) -> None:
        node = await self._call("alipay.trade.cancel", {"out_trade_no": order_no})
        if node.get("code") == protocol.CODE_SUCCESS:
            return
        if node.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return
        raise self._refusal(node)

    # -- refunds ---------------------------------------------------------------------------------

    async def refund(self, request: RefundRequest) -> RefundResult:
        node = await self._call(refunds.REFUND_METHOD, refunds.refund_biz(request))
        if node.get("code") != protocol.CODE_SUCCESS:
            raise refunds.refusal(node, refunds.REFUSALS)
        result = refunds.submitted(node, request)
        if result is not None:
            return result
        # fund_change "N": a repeat of a refund made before, or one Alipay has not finished. The docs
        # say to ask; a refund that Alipay accepted but cannot yet show is still processing.
        try:
            found = await self.query_refund(request)
        except (ChannelUnknownOutcome, ChannelRejected):
            found = None
        if found is not None and found.state in (RefundState.SUCCEEDED, RefundState.FAILED):
            return found
        return RefundResult(
            refund_no=request.refund_no,
            state=RefundState.PROCESSING,
            channel_refund_no=node.get("trade_no") or request.channel_trade_no,
            amount=request.amount,
            raw=dict(node),
        )

    async def query_refund(self, request: RefundRequest) -> RefundResult:
        node = await self._call(refunds.QUERY_METHOD, refunds.query_biz(request))
        if node.get("code") == protocol.CODE_BUSINESS and node.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return RefundResult(request.refund_no, RefundState.NOT_FOUND, raw=node)
        if node.get("code") != protocol.CODE_SUCCESS:
            raise refunds.refusal(node, refunds.QUERY_REFUSALS)
        return refunds.queried(node, request)

    async def parse_refund_notification(self, headers: Mapping[str, str], body: bytes) -> RefundResult:
        # alipay.trade.refund answers at once and Alipay sends no refund callback of its own (the
        # trade_status_sync it may send to the payment's notify_url goes to parse_notification).
        raise NotificationRejected(
            "not_supported", "Alipay sends no refund notifications; refunds are asked about instead"
        )

    # -- answers ---------------------------------------------------------------------------------

    @staticmethod
    def _text(node: Mapping[str, Any], name: str) -> str:
        value = node.get(name)
        if not isinstance(value, str) or not value:
            raise ChannelUnknownOutcome("bad_answer", f"the answer lacks {name}")
        return value

    def _status(
        self, tx: Mapping[str, Any], order_no: str, error: type[ChannelUnknownOutcome | NotificationRejected]
    ) -> OrderStatus:
        """A trade as Alipay reports it. Anything malformed is ``error``, never a guess."""
        if tx.get("out_trade_no") != order_no:
            raise error("bad_answer", "the answer is about another order")
        raw_status = tx.get("trade_status")
        state = TRADE_STATES.get(raw_status) if isinstance(raw_status, str) else None
        if state is None:
            raise error("unknown_trade_status", f"unexpected trade_status {raw_status!r}")
        trade_no = tx.get("trade_no")
        if trade_no is not None and not isinstance(trade_no, str):
            raise error("bad_answer", "trade_no is not a string")
        if state is not OrderState.SUCCEEDED:
            return OrderStatus(order_no, state, channel_trade_no=trade_no or None, raw=dict(tx))
        total = tx.get("total_amount")
        try:
            amount = yuan_to_fen(total) if isinstance(total, str) else None
        except ValueError:
            amount = None
        if amount is None:
            raise error("bad_answer", f"total_amount {total!r} is not a yuan amount with two decimals")
        paid_text = tx.get("send_pay_date") or tx.get("gmt_payment")
        try:
            paid_at = protocol.parse_time(paid_text) if isinstance(paid_text, str) else None
        except ValueError as exc:
            raise error("bad_answer", f"payment time {paid_text!r} is not a time") from exc
        if not trade_no:
            raise error("bad_answer", "a paid trade without trade_no")
        return OrderStatus(
            order_no=order_no,
            state=state,
            channel_trade_no=trade_no,
            amount=amount,
            currency=CURRENCY,
            paid_at=paid_at,
            raw=dict(tx),
        )

    # -- notifications ---------------------------------------------------------------------------

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> OrderStatus:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NotificationRejected("unreadable", f"the notification is not a utf-8 form: {exc}") from exc
        params = dict(pairs)
        if len(params) != len(pairs):
            raise NotificationRejected("unreadable", "a parameter appears twice")
        if params.get("sign_type", protocol.SIGN_TYPE) != protocol.SIGN_TYPE:
            raise NotificationRejected("bad_signature", f"unsupported sign_type {params['sign_type']!r}")
        if not protocol.verify_params(self.alipay_key, params, notification=True):
            raise NotificationRejected("bad_signature", "the notification's signature does not verify")
        if params.get("app_id") != self.app_id:
            raise NotificationRejected("wrong_app_id", "wrong app_id: the notification is for another app")
        order_no = params.get("out_trade_no")
        if not order_no:
            raise NotificationRejected("bad_notification", "the notification lacks out_trade_no")
        return self._status(params, order_no, NotificationRejected)

    def reply(self, accepted: bool, reason: str = "") -> Reply:
        if accepted:
            return Reply(200, b"success", "text/plain")
        return Reply(400, b"fail", "text/plain")
