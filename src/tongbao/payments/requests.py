"""A payment as asked for: the rules between its fields, checked before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from tongbao.channels.kinds import Method
from tongbao.errors import InvalidRequest
from tongbao.payments.schemas import AUTH_CODE_PATTERN, PaymentCreate

_AUTH_CODE = re.compile(AUTH_CODE_PATTERN)
BARCODE_METHODS = frozenset({Method.ALIPAY_BARCODE})


def method_of(value: object) -> Method | None:
    if value is None:
        return None
    try:
        return Method(str(value)) if isinstance(value, str) else Method("")
    except ValueError:
        known = ", ".join(m.value for m in Method)
        raise InvalidRequest(
            f"method must be one of {known}", code="method_unknown", param="method"
        ) from None


@dataclass(frozen=True)
class NewPayment:
    out_trade_no: str
    amount: int
    currency: str
    subject: str
    method: Method | None
    notify_url: str | None
    return_url: str | None
    client_ip: str | None
    payer_openid: str | None
    expire_in_seconds: int | None
    metadata: dict[str, str]
    auth_code: str | None = None

    def fingerprint(self) -> str:
        fields = {k: (v.value if isinstance(v, Method) else v) for k, v in self.__dict__.items()}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def new_payment(request: PaymentCreate) -> NewPayment:
    """The rules between fields; each field was checked on its own by ``PaymentCreate``."""
    method = request.method
    openid = request.payer.openid if request.payer is not None else None
    if method is Method.WECHAT_JSAPI and not openid:
        raise InvalidRequest(
            "wechat_jsapi needs the payer's openid", code="parameter_missing", param="payer.openid"
        )
    auth_code = request.auth_code
    if method in BARCODE_METHODS:
        if not auth_code:
            raise InvalidRequest(
                f"{method.value} needs the payer's auth_code", code="parameter_missing", param="auth_code"
            )
        if not _AUTH_CODE.fullmatch(auth_code):
            raise InvalidRequest(
                "auth_code is the 16-24 digits of the payer's barcode",
                code="auth_code_invalid",
                param="auth_code",
            )
    elif auth_code:
        raise InvalidRequest("auth_code is only for barcode methods", param="auth_code")
    return NewPayment(
        out_trade_no=request.out_trade_no,
        amount=request.amount,
        currency=request.currency,
        subject=request.subject,
        method=method,
        notify_url=request.notify_url,
        return_url=request.return_url,
        client_ip=request.client_ip,
        payer_openid=openid,
        expire_in_seconds=request.expire_in_seconds,
        metadata=dict(request.metadata or {}),
        auth_code=auth_code,
    )
