"""UnionPay online gateway (ACP 5.1.0), spoken for one channel account.

``unionpay_web`` / ``unionpay_wap`` are *front* transactions: no server call; ``create`` returns the
signed form the payer's browser posts to ``/gateway/api/frontTransReq.do`` (the cashier renders it as
an auto-submitting form). The result comes back as a signed form POST to ``backUrl`` (the back
notify) and can be asked for with ``queryTrans.do``.

Refunds (``txnType`` 04) are back transactions to ``backTransReq.do``, accepted synchronously and
finished by a back notify to the refund's own callback URL; ``channels/unionpay/refunds.py`` reads
them.

UnionPay cannot close a front transaction: ``close`` makes no call and returns. An unpaid order
expires at its ``payTimeout`` (the payment's ``expires_at``); until then a query reports it open
(PAYING: the gateway may still take the payer's card), afterwards the gateway knows no transaction
(respCode 34, NOT_FOUND), which the payment service reads as closed.

Errors follow the WeChat Pay adapter: a timeout, a connection failure, a 5xx, an answer that does
not verify, or respCode 03/04/05 are *unknown* outcomes; other refusals are ``ChannelRejected``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tongbao.channels.base import (
    Action,
    ChannelRejected,
    ChannelUnknownOutcome,
    NotificationRejected,
    OrderRequest,
    OrderState,
    OrderStatus,
    RefundRequest,
    RefundResult,
    RefundState,
    Reply,
)
from tongbao.channels.kinds import Channel, Method
from tongbao.channels.unionpay import protocol, refunds
from tongbao.clock import Clock
from tongbao.money import fen_to_string, string_to_fen

CHANNEL_TYPES: Final = {
    Method.UNIONPAY_WEB: protocol.CHANNEL_WEB,
    Method.UNIONPAY_WAP: protocol.CHANNEL_MOBILE,
}
CURRENCIES: Final = {protocol.CURRENCY_CODE: "CNY"}


class UnionPayAdapter:
    channel = Channel.UNIONPAY

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
        self.base_url = base_url.rstrip("/")
        self.mer_id = config["mer_id"]
        unionpay_certificate = protocol.load_certificate(config["unionpay_certificate_pem"])
        self.unionpay_cert_id = protocol.cert_id(unionpay_certificate)
        self.unionpay_key = protocol.certificate_key(unionpay_certificate)
        key = load_pem_private_key(credentials["signing_private_key_pem"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)  # checked when the account was saved
        self.private_key = key
        self.cert_id = protocol.cert_id(protocol.load_certificate(credentials["signing_certificate_pem"]))
        self.http = http
        self.clock = clock

    # -- messages --------------------------------------------------------------------------------

    def _base(self, txn: tuple[str, str], channel_type: str, order_no: str) -> dict[str, str]:
        try:
            order_id, txn_time = protocol.order_id(order_no), protocol.txn_time(order_no)
        except ValueError as exc:
            raise ChannelRejected("ORDER_NO_INVALID", str(exc)) from exc
        return {
            "version": protocol.VERSION,
            "encoding": protocol.ENCODING,
            "signMethod": protocol.SIGN_METHOD,
            "txnType": txn[0],
            "txnSubType": txn[1],
            "bizType": protocol.BIZ_TYPE,
            "channelType": channel_type,
            "accessType": protocol.ACCESS_TYPE,
            "merId": self.mer_id,
            "orderId": order_id,
            "txnTime": txn_time,
        }

    def _sign(self, params: Mapping[str, str]) -> dict[str, str]:
        return protocol.signed(self.private_key, self.cert_id, params)

    def _believe(self, message: Mapping[str, str]) -> str | None:
        """Why a message from the gateway cannot be believed, or None when it can."""
        if message.get("certId") != self.unionpay_cert_id:
            return "certId does not name the configured UnionPay certificate"
        if not protocol.verify(self.unionpay_key, message):
            return "the signature does not verify"
        if message.get("merId") != self.mer_id:
            return "the message is about another merchant"
        return None

    # -- orders ----------------------------------------------------------------------------------

    async def create(self, order: OrderRequest) -> Action:
        channel_type = CHANNEL_TYPES.get(order.method)
        if channel_type is None:
            raise ChannelRejected("METHOD_UNSUPPORTED", f"UnionPay does not offer {order.method.value}")
        if order.currency != "CNY":
            raise ChannelRejected("CURRENCY_UNSUPPORTED", "UnionPay gateway payments are in CNY")
        if order.amount < 1:
            raise ChannelRejected("AMOUNT_INVALID", "the amount must be at least 1 fen")
        params = self._base(protocol.TXN_CONSUME, channel_type, order.order_no)
        params.update(
            {
                "txnAmt": fen_to_string(order.amount),
                "currencyCode": protocol.CURRENCY_CODE,
                # Without a return page the payer's browser posts the result to the callback URL.
                "frontUrl": order.return_url or order.notify_url,
                "backUrl": order.notify_url,
                "payTimeout": protocol.format_time(order.expires_at),
            }
        )
        fields = self._sign(params)
        return Action("form_post", {"url": self.base_url + protocol.FRONT_PATH, "fields": fields})

    async def _call(self, path: str, params: Mapping[str, str]) -> dict[str, str]:
        """POSTs a signed back-end request; the gateway's verified answer about the same orderId.
        Anything else is an unknown outcome: the gateway may have acted."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "User-Agent": "tongbao",
        }
        try:
            response = await self.http.post(
                self.base_url + path, content=protocol.encode_form(params), headers=headers
            )
        except httpx.TimeoutException as exc:
            raise ChannelUnknownOutcome("timeout", f"no answer from UnionPay: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ChannelUnknownOutcome("network", f"could not reach UnionPay: {exc!r}") from exc
        if response.status_code != 200:
            raise ChannelUnknownOutcome(f"http_{response.status_code}", response.text[:300])
        try:
            answer = protocol.parse_answer(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ChannelUnknownOutcome("bad_answer", "the answer is not a k=v form") from exc
        problem = self._believe(answer)
        if problem is not None:
            raise ChannelUnknownOutcome("bad_signature", problem)
        if answer.get("orderId") != params["orderId"]:
            raise ChannelUnknownOutcome("bad_answer", "the answer is about another order")
        return answer

    async def query(self, order_no: str) -> OrderStatus:
        params = self._sign(self._base(protocol.TXN_QUERY, protocol.CHANNEL_WEB, order_no))
        answer = await self._call(protocol.QUERY_PATH, params)
        resp_code, resp_msg = answer.get("respCode", ""), answer.get("respMsg", "")
        if resp_code == protocol.RESP_NO_SUCH_ORDER:
            return OrderStatus(order_no, OrderState.NOT_FOUND, raw=answer)
        if resp_code in protocol.RESP_PENDING or not resp_code:
            raise ChannelUnknownOutcome(f"respCode_{resp_code}", resp_msg or "the query did not complete")
        if resp_code != protocol.RESP_SUCCESS:
            raise ChannelRejected(f"respCode_{resp_code}", resp_msg or "the query was refused")
        orig = answer.get("origRespCode", "")
        if orig == protocol.RESP_SUCCESS:
            try:
                return self._paid(order_no, answer)
            except ValueError as exc:
                raise ChannelUnknownOutcome("bad_answer", str(exc)) from exc
        if not orig:
            raise ChannelUnknownOutcome("bad_answer", "a found transaction without origRespCode")
        state = OrderState.PAYING if orig in protocol.RESP_PENDING else OrderState.FAILED
        return OrderStatus(order_no, state, channel_trade_no=answer.get("queryId") or None, raw=answer)

    def _paid(self, order_no: str, message: Mapping[str, str]) -> OrderStatus:
        """A successful transaction; ValueError when a field needed to believe it is malformed."""
        amount = string_to_fen(message.get("txnAmt", ""))
        currency = CURRENCIES.get(message.get("currencyCode", protocol.CURRENCY_CODE))
        if currency is None:
            raise ValueError(f"unknown currencyCode {message.get('currencyCode')!r}")
        query_id = message.get("queryId", "")
        if not query_id:
            raise ValueError("a paid transaction without queryId")
        txn_time = message.get("txnTime", "")
        trace_time = message.get("traceTime", "")
        paid_at = protocol.trace_moment(trace_time, txn_time) if trace_time else protocol.parse_time(txn_time)
        return OrderStatus(
            order_no=order_no,
            state=OrderState.SUCCEEDED,
            channel_trade_no=query_id,
            amount=amount,
            currency=currency,
            paid_at=paid_at,
            raw=dict(message),
        )

    async def close(self, order_no: str) -> None:
        """Front transactions cannot be closed at UnionPay: the order lapses at its payTimeout."""
        return None

    async def charge(self, order: OrderRequest) -> OrderStatus:
        raise ChannelRejected("METHOD_UNSUPPORTED", "UnionPay barcode payments are not offered")

    async def cancel(self, order_no: str) -> None:
        await self.close(order_no)

    # -- refunds ---------------------------------------------------------------------------------

    async def refund(self, request: RefundRequest) -> RefundResult:
        if request.currency != "CNY":
            raise ChannelRejected("CURRENCY_UNSUPPORTED", "UnionPay gateway refunds are in CNY")
        if request.amount < 1:
            raise ChannelRejected("AMOUNT_INVALID", "the amount must be at least 1 fen")
        if not request.channel_trade_no:
            raise ChannelRejected("ORIG_QRY_ID_MISSING", "a UnionPay refund names the payment's queryId")
        # channelType is not the payment's (07 or 08): the gateway takes 07 for back transactions.
        params = self._base(protocol.TXN_REFUND, protocol.CHANNEL_WEB, request.refund_no)
        params.update(
            {
                "txnAmt": fen_to_string(request.amount),
                "currencyCode": protocol.CURRENCY_CODE,
                "origQryId": request.channel_trade_no,
                "backUrl": request.notify_url,
            }
        )
        answer = await self._call(protocol.BACK_PATH, self._sign(params))
        if answer.get("respCode") == protocol.RESP_DUPLICATE:
            # The gateway may call a resubmission of a refund it holds a duplicate: if the refund
            # under this orderId is this one, it is the same refund, not a refusal.
            found = await self.query_refund(request)
            if found.state is not RefundState.NOT_FOUND and refunds.same_refund(request, found):
                return found
        return refunds.submitted(request, answer)

    async def query_refund(self, request: RefundRequest) -> RefundResult:
        params = self._sign(self._base(protocol.TXN_QUERY, protocol.CHANNEL_WEB, request.refund_no))
        return refunds.queried(request, await self._call(protocol.QUERY_PATH, params))

    async def parse_refund_notification(self, headers: Mapping[str, str], body: bytes) -> RefundResult:
        message = self._believed_notification(body)
        try:
            return refunds.notified(message)
        except ValueError as exc:
            raise NotificationRejected("malformed", str(exc)) from exc

    # -- callbacks -------------------------------------------------------------------------------

    def _believed_notification(self, body: bytes) -> dict[str, str]:
        try:
            message = protocol.parse_form(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NotificationRejected("unreadable", "the notification is not a form") from exc
        problem = self._believe(message)
        if problem is not None:
            code = "bad_signature" if "signature" in problem or "certId" in problem else "wrong_merchant"
            raise NotificationRejected(code, problem)
        return message

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> OrderStatus:
        message = self._believed_notification(body)
        if message.get("txnType") != protocol.TXN_CONSUME[0]:
            # A refund's notify is signed just the same; read as a payment it would look paid.
            raise NotificationRejected("malformed", "not the notification of a payment")
        try:
            order_no = protocol.order_no(message.get("orderId", ""))
            if message.get("txnTime") != protocol.txn_time(order_no):
                raise ValueError("txnTime does not match the order")
            if message.get("respCode") == protocol.RESP_SUCCESS:
                return self._paid(order_no, message)
            string_to_fen(message.get("txnAmt", ""))
        except ValueError as exc:
            raise NotificationRejected("malformed", str(exc)) from exc
        return OrderStatus(
            order_no, OrderState.FAILED, channel_trade_no=message.get("queryId") or None, raw=message
        )

    def reply(self, accepted: bool, reason: str = "") -> Reply:
        # The gateway takes HTTP 200 as delivered and re-sends otherwise.
        if accepted:
            return Reply(200, b"ok", "text/plain")
        return Reply(400, f"fail: {reason or 'rejected'}".encode(), "text/plain")
