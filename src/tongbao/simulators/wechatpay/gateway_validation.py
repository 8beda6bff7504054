"""Checks on the create-order and refund bodies, answering PARAM_ERROR the way WeChat Pay v3 does."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from tongbao.channels.wechatpay import protocol

from .gateway_errors import WeChatApiError, param_error

OUT_TRADE_NO: Final = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")
OUT_REFUND_NO: Final = re.compile(r"[A-Za-z0-9_\-|*@]{1,64}")
FUNDS_ACCOUNTS: Final = ("AVAILABLE", "UNSETTLED")
REASON_MAX_BYTES: Final = 80


@dataclass(frozen=True)
class CreateRequest:
    kind: str
    appid: str
    mchid: str
    description: str
    out_trade_no: str
    total: int
    currency: str
    notify_url: str
    attach: str
    time_expire: datetime | None
    openid: str | None
    scene_info: dict[str, Any] | None

    def fingerprint(self) -> dict[str, Any]:
        """What must match for a repeat to count as the same order."""
        return {
            "kind": self.kind,
            "appid": self.appid,
            "description": self.description,
            "total": self.total,
            "currency": self.currency,
            "notify_url": self.notify_url,
            "attach": self.attach,
            "time_expire": self.time_expire.isoformat() if self.time_expire else None,
            "openid": self.openid,
        }


@dataclass(frozen=True)
class RefundApply:
    """A refund submit: the order by one of its two numbers, and what goes back."""

    transaction_id: str | None
    out_trade_no: str | None
    out_refund_no: str
    reason: str
    notify_url: str | None
    funds_account: str
    refund: int
    total: int
    currency: str


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeChatApiError(400, "PARAM_ERROR", "请求体不是有效的JSON") from exc
    if not isinstance(data, dict):
        raise WeChatApiError(400, "PARAM_ERROR", "请求体应为JSON对象")
    return data


def text(
    data: dict[str, Any],
    name: str,
    *,
    pointer: str = "",
    max_len: int = 32,
    required: bool = True,
    location: str = "body",
) -> str:
    field = f"{pointer}/{name}"
    value = data.get(name)
    if value is None:
        if required:
            raise param_error(field, "此字段为必填项", location=location)
        return ""
    if not isinstance(value, str):
        raise param_error(field, "应为字符串", value, location)
    if required and not value:
        raise param_error(field, "不能为空", value, location)
    if len(value) > max_len:
        raise param_error(field, f"长度不能超过{max_len}", value, location)
    return value


def _object(data: dict[str, Any], name: str, pointer: str = "") -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        raise param_error(f"{pointer}/{name}", "此字段为必填项")
    if not isinstance(value, dict):
        raise param_error(f"{pointer}/{name}", "应为JSON对象", value)
    return value


def _notify_url(data: dict[str, Any], required: bool = True) -> str:
    url = text(data, "notify_url", max_len=256, required=required)
    if not url and not required:
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise param_error("/notify_url", "应为以 http:// 或 https:// 开头的完整地址", url)
    return url


def _fen(amount: dict[str, Any], name: str) -> int:
    value = amount.get(name)
    if value is None:
        raise param_error(f"/amount/{name}", "此字段为必填项")
    # Fen are integers; a JSON float or a bool is refused rather than rounded.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise param_error(f"/amount/{name}", "应为不小于1的整数（单位：分）", value)
    return value


def _currency(amount: dict[str, Any], required: bool) -> str:
    if required and "currency" not in amount:
        raise param_error("/amount/currency", "此字段为必填项")
    currency = amount.get("currency", "CNY")
    if currency != "CNY":
        raise param_error("/amount/currency", "币种仅支持CNY", currency)
    return "CNY"


def _amount(data: dict[str, Any]) -> tuple[int, str]:
    amount = _object(data, "amount")
    return _fen(amount, "total"), _currency(amount, required=False)


def _time_expire(data: dict[str, Any]) -> datetime | None:
    raw = data.get("time_expire")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise param_error("/time_expire", "应为RFC3339格式的时间", raw)
    try:
        return protocol.parse_rfc3339(raw)
    except ValueError as exc:
        raise param_error("/time_expire", "应为RFC3339格式的时间，如 2026-06-08T10:34:56+08:00", raw) from exc


def parse_create(kind: str, body: bytes) -> CreateRequest:
    data = json_object(body)
    appid = text(data, "appid")
    mchid = text(data, "mchid")
    description = text(data, "description", max_len=127)
    out_trade_no = text(data, "out_trade_no")
    if not OUT_TRADE_NO.fullmatch(out_trade_no):
        raise param_error("/out_trade_no", "应为6到32位数字、大小写字母或_-|*", out_trade_no)
    attach = text(data, "attach", max_len=128, required=False)
    time_expire = _time_expire(data)
    notify_url = _notify_url(data)
    total, currency = _amount(data)
    openid: str | None = None
    scene_info: dict[str, Any] | None = None
    if kind == "jsapi":
        openid = text(_object(data, "payer"), "openid", pointer="/payer", max_len=128)
    if kind == "h5":
        scene_info = _object(data, "scene_info")
        text(scene_info, "payer_client_ip", pointer="/scene_info", max_len=45)
        text(_object(scene_info, "h5_info", "/scene_info"), "type", pointer="/scene_info/h5_info")
    return CreateRequest(
        kind=kind,
        appid=appid,
        mchid=mchid,
        description=description,
        out_trade_no=out_trade_no,
        total=total,
        currency=currency,
        notify_url=notify_url,
        attach=attach,
        time_expire=time_expire,
        openid=openid,
        scene_info=scene_info,
    )


def parse_refund(body: bytes) -> RefundApply:
    data = json_object(body)
    transaction_id = text(data, "transaction_id", required=False) or None
    out_trade_no = text(data, "out_trade_no", required=False) or None
    if transaction_id is None and out_trade_no is None:
        raise param_error("/transaction_id", "transaction_id和out_trade_no必须二选一进行传参")
    out_refund_no = text(data, "out_refund_no", max_len=64)
    if not OUT_REFUND_NO.fullmatch(out_refund_no):
        raise param_error("/out_refund_no", "应为1到64位数字、大小写字母或_-|*@", out_refund_no)
    reason = text(data, "reason", max_len=REASON_MAX_BYTES, required=False)
    if len(reason.encode()) > REASON_MAX_BYTES:  # the limit is in bytes: 26 Chinese characters
        raise param_error("/reason", f"长度不能超过{REASON_MAX_BYTES}个字节", reason)
    funds_account = text(data, "funds_account", required=False) or "UNSETTLED"  # 未结算资金 by default
    if funds_account not in FUNDS_ACCOUNTS:
        raise param_error("/funds_account", "取值应为AVAILABLE或UNSETTLED", funds_account)
    amount = _object(data, "amount")
    return RefundApply(
        transaction_id=transaction_id,
        out_trade_no=out_trade_no,
        out_refund_no=out_refund_no,
        reason=reason,
        notify_url=_notify_url(data, required=False) or None,
        funds_account=funds_account,
        refund=_fen(amount, "refund"),
        total=_fen(amount, "total"),
        currency=_currency(amount, required=True),
    )
