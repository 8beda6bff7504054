"""WeChat Pay API v3, spoken for one channel account: orders, queries, closes, refunds and callbacks.

Amounts are integer fen on the wire. A timeout, a connection failure, a 5xx or an answer whose
signature does not verify are *unknown* outcomes (the order may exist); a 4xx with an error code
is a definite refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tongbao.channels.base import (
    Action,
    ChannelError,
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
from tongbao.channels.wechatpay import protocol, refunds, transactions
from tongbao.channels.wechatpay.platform_keys import (
    CertificateCache,
    certificates_from_listing,
    rsa_public_key,
)
from tongbao.clock import Clock

CREATE_PATHS: Final = {
    Method.WECHAT_NATIVE: "/v3/pay/transactions/native",
    Method.WECHAT_JSAPI: "/v3/pay/transactions/jsapi",
    Method.WECHAT_H5: "/v3/pay/transactions/h5",
    Method.WECHAT_APP: "/v3/pay/transactions/app",
}
# How far a callback's or answer's timestamp may be from our clock before we call it stale.
MAX_SKEW_S: Final = 300


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class WeChatPayAdapter:
    channel = Channel.WECHATPAY

    def __init__(
        self,
        *,
        account_id: str,
        base_url: str,
        config: Mapping[str, str],
        credentials: Mapping[str, str],
        http: httpx.AsyncClient,
        clock: Clock,
        certificates: CertificateCache,
    ) -> None:
        self.account_id = account_id
        self.base_url = base_url.rstrip("/")
        self.mchid = config["mchid"]
        self.appid = config["appid"]
        self.serial_no = config["merchant_serial_no"]
        self.platform_key_id = config.get("platform_public_key_id")
        pem = config.get("platform_public_key_pem")
        self.platform_key = rsa_public_key(pem) if pem else None
        key = load_pem_private_key(credentials["private_key_pem"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)  # checked when the account was saved
        self.private_key = key
        self.apiv3_key = credentials["apiv3_key"].encode()
        self.http = http
        self.clock = clock
        self.certificates = certificates

    # -- signing and transport ------------------------------------------------------------------

    async def _send(self, method: str, url: str, body: bytes, *, verify: bool = True) -> httpx.Response:
        timestamp = int(self.clock.now().timestamp())
        auth = protocol.sign_request(
            self.private_key,
            mchid=self.mchid,
            serial_no=self.serial_no,
            method=method,
            url=url,
            body=body,
            timestamp=timestamp,
            nonce=protocol.new_nonce(),
        )
        headers = {"Authorization": auth.header(), "Accept": "application/json", "User-Agent": "tongbao"}
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = await self.http.request(method, self.base_url + url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ChannelUnknownOutcome("timeout", f"no answer from WeChat Pay: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ChannelUnknownOutcome("network", f"could not reach WeChat Pay: {exc!r}") from exc
        if response.status_code >= 500:
            raise ChannelUnknownOutcome(self._error_code(response) or "http_5xx", response.text[:300])
        if verify and not await self._signed_by_platform(response.headers, response.content):
            raise ChannelUnknownOutcome("bad_signature", "the answer's signature does not verify")
        if response.status_code >= 400:
            code = self._error_code(response) or f"http_{response.status_code}"
            message = self._error_message(response)
            if code == "ORDERPAID":
                raise OrderAlreadyPaid(code, message)
            if code not in ("ORDER_NOT_EXIST", "RESOURCE_NOT_EXISTS"):
                raise ChannelRejected(code, message)
        return response

    @staticmethod
    def _error_code(response: httpx.Response) -> str | None:
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            return None
        return code if isinstance(code, str) else None

    @staticmethod
    def _error_message(response: httpx.Response) -> str:
        try:
            return str(response.json().get("message", ""))[:300]
        except (ValueError, AttributeError):
            return response.text[:300]

    async def _platform_key(self, serial: str) -> rsa.RSAPublicKey | None:
        if self.platform_key is not None and serial == self.platform_key_id:
            return self.platform_key
        if self.platform_key is not None:
            return None  # public-key mode: only that key speaks for the platform
        return await self.certificates.key(
            self.account_id, serial, self.clock.now(), self._download_certificates
        )

    async def _download_certificates(self) -> dict[str, rsa.RSAPublicKey]:
        # Whatever goes wrong here, the answer being checked stays unverified: unknown, not refused.
        try:
            response = await self._send("GET", "/v3/certificates", b"", verify=False)
        except ChannelError as exc:
            raise ChannelUnknownOutcome("certificates", f"no platform certificates: {exc}") from exc
        if response.status_code != 200:
            raise ChannelUnknownOutcome("certificates", "could not download the platform certificates")
        try:
            keys = certificates_from_listing(self.apiv3_key, response.content)
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelUnknownOutcome("certificates", f"unreadable platform certificates: {exc}") from exc
        # The listing is verified with the certificates it carries (the only way to bootstrap).
        serial = response.headers.get(protocol.HEADER_SERIAL, "").upper()
        key = keys.get(serial)
        if key is None or not self._signature_ok(key, response.headers, response.content):
            raise ChannelUnknownOutcome(
                "bad_signature", "the certificate listing's signature does not verify"
            )
        return keys

    @staticmethod
    def _signature_ok(key: rsa.RSAPublicKey, headers: Mapping[str, str], body: bytes) -> bool:
        timestamp = headers.get(protocol.HEADER_TIMESTAMP, "")
        nonce = headers.get(protocol.HEADER_NONCE, "")
        signature = headers.get(protocol.HEADER_SIGNATURE, "")
        return protocol.verify(key, protocol.message(timestamp, nonce, body), signature)

    async def _signed_by_platform(self, headers: Mapping[str, str], body: bytes) -> bool:
        key = await self._platform_key(headers.get(protocol.HEADER_SERIAL, ""))
        return key is not None and self._signature_ok(key, headers, body)

    # -- orders ----------------------------------------------------------------------------------

    async def create(self, order: OrderRequest) -> Action:
        body: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": order.subject,
            "out_trade_no": order.order_no,
            "time_expire": protocol.rfc3339(order.expires_at),
            "notify_url": order.notify_url,
            "amount": {"total": order.amount, "currency": order.currency},
        }
        if order.method is Method.WECHAT_JSAPI:
            body["payer"] = {"openid": order.payer_openid}
        if order.method is Method.WECHAT_H5:
            body["scene_info"] = {
                "payer_client_ip": order.client_ip or "127.0.0.1",
                "h5_info": {"type": "Wap"},
            }
        response = await self._send("POST", CREATE_PATHS[order.method], _json(body))
        answer = self._object(response)
        if order.method is Method.WECHAT_NATIVE:
            return Action("qr_code", {"code_url": self._text(answer, "code_url")})
        if order.method is Method.WECHAT_H5:
            return Action("redirect", {"url": self._text(answer, "h5_url")})
        prepay_id = self._text(answer, "prepay_id")
        timestamp, nonce = str(int(self.clock.now().timestamp())), protocol.new_nonce()
        if order.method is Method.WECHAT_JSAPI:
            package = f"prepay_id={prepay_id}"
            return Action(
                "jsapi",
                {
                    "appId": self.appid,
                    "timeStamp": timestamp,
                    "nonceStr": nonce,
                    "package": package,
                    "signType": "RSA",
                    "paySign": protocol.jsapi_pay_sign(
                        self.private_key, self.appid, timestamp, nonce, package
                    ),
                },
            )
        return Action(
            "app",
            {
                "appid": self.appid,
                "partnerid": self.mchid,
                "prepayid": prepay_id,
                "package": "Sign=WXPay",
                "noncestr": nonce,
                "timestamp": timestamp,
                "sign": protocol.app_pay_sign(self.private_key, self.appid, timestamp, nonce, prepay_id),
            },
        )

    async def query(self, order_no: str) -> OrderStatus:
        url = f"/v3/pay/transactions/out-trade-no/{quote(order_no, safe='')}?mchid={quote(self.mchid)}"
        response = await self._send("GET", url, b"")
        if response.status_code == 404:
            return OrderStatus(order_no, OrderState.NOT_FOUND)
        return self._status(self._object(response), order_no)

    async def query_by_transaction_id(self, transaction_id: str) -> OrderStatus:
        url = f"/v3/pay/transactions/id/{quote(transaction_id, safe='')}?mchid={quote(self.mchid)}"
        response = await self._send("GET", url, b"")
        if response.status_code == 404:
            raise ChannelRejected("ORDER_NOT_EXIST", "no such transaction")
        answer = self._object(response)
        return self._status(answer, self._text(answer, "out_trade_no"))

    async def close(self, order_no: str) -> None:
        url = f"/v3/pay/transactions/out-trade-no/{quote(order_no, safe='')}/close"
        response = await self._send("POST", url, _json({"mchid": self.mchid}))
        if response.status_code == 404:
            return  # never created at the channel: nothing to close
        if response.status_code not in (200, 204):
            raise ChannelUnknownOutcome(f"http_{response.status_code}", "unexpected answer to close")

    async def charge(self, order: OrderRequest) -> OrderStatus:
        raise ChannelRejected("METHOD_UNSUPPORTED", "WeChat Pay barcode payments are not offered")

    async def cancel(self, order_no: str) -> None:
        await self.close(order_no)

    # -- answers ---------------------------------------------------------------------------------

    @staticmethod
    def _object(response: httpx.Response) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError as exc:
            raise ChannelUnknownOutcome("bad_answer", "the answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise ChannelUnknownOutcome("bad_answer", "the answer is not a JSON object")
        return answer

    @staticmethod
    def _text(answer: Mapping[str, Any], name: str) -> str:
        value = answer.get(name)
        if not isinstance(value, str) or not value:
            raise ChannelUnknownOutcome("bad_answer", f"the answer lacks {name}")
        return value

    def _status(self, tx: Mapping[str, Any], order_no: str) -> OrderStatus:
        return transactions.read_transaction(tx, order_no, mchid=self.mchid, appid=self.appid)

    # -- refunds ---------------------------------------------------------------------------------

    async def refund(self, request: RefundRequest) -> RefundResult:
        """WeChat answers a new refund PROCESSING and calls back when it ends; the same out_refund_no
        again is the same refund (WeChat: "同一退款单号多次请求只退一笔")."""
        try:
            response = await self._send("POST", refunds.REFUNDS_PATH, _json(refunds.refund_body(request)))
        except ChannelRejected as exc:
            # Throttled: not taken, and nothing refused for good. Asking later finds NOT_FOUND, and
            # submitting the same refund then is safe.
            if exc.code == "FREQUENCY_LIMITED":
                raise ChannelUnknownOutcome(exc.code, exc.message) from exc
            raise
        if response.status_code == 404:  # RESOURCE_NOT_EXISTS: the order is unknown or not paid
            code = self._error_code(response) or "RESOURCE_NOT_EXISTS"
            raise ChannelRejected(code, self._error_message(response))
        return refunds.read_refund(self._object(response), request.refund_no, request.order_no)

    async def query_refund(self, request: RefundRequest) -> RefundResult:
        url = f"{refunds.REFUNDS_PATH}/{quote(request.refund_no, safe='')}"
        response = await self._send("GET", url, b"")
        if response.status_code == 404:
            return RefundResult(request.refund_no, RefundState.NOT_FOUND)
        return refunds.read_refund(self._object(response), request.refund_no, request.order_no)

    # -- callbacks -------------------------------------------------------------------------------

    async def _open_callback(self, headers: Mapping[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
        """A callback verified (fresh, signed by a platform key we know) and its resource decrypted
        with our API v3 key: its event_type and the resource's JSON object."""
        try:
            timestamp = int(headers.get(protocol.HEADER_TIMESTAMP, ""))
        except ValueError as exc:
            raise NotificationRejected(
                "bad_timestamp", "Wechatpay-Timestamp is missing or not a number"
            ) from exc
        if abs(self.clock.now().timestamp() - timestamp) > MAX_SKEW_S:
            raise NotificationRejected("stale", "the callback's timestamp is too far from now")
        serial = headers.get(protocol.HEADER_SERIAL, "")
        try:
            key = await self._platform_key(serial)
        except ChannelUnknownOutcome as exc:
            raise NotificationRejected(
                "unknown_serial", f"cannot fetch platform keys: {exc.message}"
            ) from exc
        if key is None:
            raise NotificationRejected("unknown_serial", f"no platform key with serial {serial!r}")
        if not self._signature_ok(key, headers, body):
            raise NotificationRejected("bad_signature", "the callback's signature does not verify")
        try:
            envelope = json.loads(body)
            event_type = envelope.get("event_type")
            resource = envelope["resource"]
            if resource.get("algorithm") != protocol.AEAD_ALGORITHM:
                raise ValueError("unsupported algorithm")
            plain = protocol.decrypt(
                self.apiv3_key, resource["nonce"], resource.get("associated_data", ""), resource["ciphertext"]
            )
            decoded = json.loads(plain)
            if not isinstance(event_type, str) or not isinstance(decoded, dict):
                raise TypeError("event_type is not a string or the resource not an object")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NotificationRejected("undecryptable", f"the callback cannot be read: {exc}") from exc
        if decoded.get("mchid") not in (None, self.mchid):
            raise NotificationRejected("bad_answer", "the callback is about another merchant")
        return event_type, decoded

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> OrderStatus:
        event_type, tx = await self._open_callback(headers, body)
        # The payment and refund callbacks have their own URLs; a refund event here is never a payment.
        if not event_type.startswith("TRANSACTION."):
            raise NotificationRejected("unexpected_event", f"{event_type} is not about a payment")
        order_no = tx.get("out_trade_no")
        if not isinstance(order_no, str):
            raise NotificationRejected("undecryptable", "the callback cannot be read: no out_trade_no")
        try:
            return self._status(tx, order_no)
        except ChannelUnknownOutcome as exc:
            raise NotificationRejected(exc.code, exc.message) from exc

    async def parse_refund_notification(self, headers: Mapping[str, str], body: bytes) -> RefundResult:
        event_type, resource = await self._open_callback(headers, body)
        if not event_type.startswith("REFUND."):
            raise NotificationRejected("unexpected_event", f"{event_type} is not about a refund")
        refund_no = resource.get("out_refund_no")
        if not isinstance(refund_no, str) or not refund_no:
            raise NotificationRejected("undecryptable", "the callback cannot be read: no out_refund_no")
        try:
            return refunds.read_refund(resource, refund_no, None, status_field="refund_status")
        except ChannelUnknownOutcome as exc:
            raise NotificationRejected(exc.code, exc.message) from exc

    def reply(self, accepted: bool, reason: str = "") -> Reply:
        if accepted:
            return Reply(204, b"", "application/json")
        return Reply(400, _json({"code": "FAIL", "message": reason or "失败"}), "application/json")
