"""What a merchant may ask for when creating a payment: every field checked before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from tongbao.channels.kinds import Method
from tongbao.errors import InvalidRequest
from tongbao.merchants.domain.apps import AppRuleBroken, check_notify_url
from tongbao.payments import domain
from tongbao.payments.domain import AmountProblem

_OUT_TRADE_NO = re.compile(domain.OUT_TRADE_NO_PATTERN)
# Alipay's payment codes: 16-24 digits beginning 25 to 30.
_AUTH_CODE = re.compile(r"(2[5-9]|30)[0-9]{14,22}")
BARCODE_METHODS = frozenset({Method.ALIPAY_BARCODE})


def _invalid(problem: AmountProblem | AppRuleBroken) -> InvalidRequest:
    if isinstance(problem, AppRuleBroken):
        return InvalidRequest(str(problem), code="parameter_invalid", param=problem.param)
    return InvalidRequest(str(problem), code=problem.code, param=problem.param)


def text_field(body: dict[str, Any], name: str, *, max_len: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"{name} is required", code="parameter_missing", param=name)
        return None
    if not isinstance(value, str) or len(value) > max_len or "\x00" in value:
        raise InvalidRequest(f"{name} is a string of at most {max_len} characters", param=name)
    return value


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


KNOWN_FIELDS = frozenset(
    {
        "out_trade_no", "amount", "currency", "method", "subject", "notify_url", "return_url",
        "expire_in_seconds", "client_ip", "payer", "auth_code", "metadata",
    }
)  # fmt: skip


def parse_new_payment(body: dict[str, Any]) -> NewPayment:
    """Every check on the request, before anything is written."""
    for name in body:
        if name not in KNOWN_FIELDS:
            raise InvalidRequest(f"unknown field {name!r}", code="parameter_unknown", param=name)
    out_trade_no = text_field(body, "out_trade_no", max_len=64, required=True)
    assert out_trade_no is not None
    if not _OUT_TRADE_NO.fullmatch(out_trade_no):
        raise InvalidRequest(
            "out_trade_no is 1-64 characters of A-Z a-z 0-9 _ - | * . :", param="out_trade_no"
        )
    try:
        amount, currency = domain.check_amount(body.get("amount"), body.get("currency", "CNY"))
        metadata = domain.check_metadata(body.get("metadata"))
        expire_in_seconds = domain.check_expire_in(body.get("expire_in_seconds"))
        if "amount" not in body:
            raise AmountProblem("parameter_missing", "amount", "amount is required")
        notify_url = text_field(body, "notify_url", max_len=1024)
        return_url = text_field(body, "return_url", max_len=1024)
        if notify_url:
            check_notify_url(notify_url)
        if return_url:
            check_notify_url(return_url, "return_url")
    except (AmountProblem, AppRuleBroken) as problem:
        raise _invalid(problem) from None
    subject = text_field(body, "subject", max_len=domain.SUBJECT_MAX_LEN, required=True)
    assert subject is not None
    method = method_of(body.get("method"))
    payer = body.get("payer")
    if payer is not None and not isinstance(payer, dict):
        raise InvalidRequest("payer is an object", param="payer")
    openid = text_field(payer or {}, "openid", max_len=128)
    if method is Method.WECHAT_JSAPI and not openid:
        raise InvalidRequest(
            "wechat_jsapi needs the payer's openid", code="parameter_missing", param="payer.openid"
        )
    auth_code = text_field(body, "auth_code", max_len=32)
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
        out_trade_no=out_trade_no,
        amount=amount,
        currency=currency,
        subject=subject,
        method=method,
        notify_url=notify_url,
        return_url=return_url,
        client_ip=text_field(body, "client_ip", max_len=64),
        payer_openid=openid,
        expire_in_seconds=expire_in_seconds,
        metadata=metadata,
        auth_code=auth_code,
    )
