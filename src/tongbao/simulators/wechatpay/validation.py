"""Checks on the create-order body, answering PARAM_ERROR the way WeChat Pay v3 does."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from tongbao.channels.wechatpay import protocol

from .errors import WeChatApiError, param_error

OUT_TRADE_NO: Final = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")


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


def _notify_url(data: dict[str, Any]) -> str:
    url = text(data, "notify_url", max_len=256)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise param_error("/notify_url", "应为以 http:// 或 https:// 开头的完整地址", url)
    return url


def _amount(data: dict[str, Any]) -> tuple[int, str]:
    amount = _object(data, "amount")
    total = amount.get("total")
    if total is None:
        raise param_error("/amount/total", "此字段为必填项")
    # Fen are integers; a JSON float or a bool is refused rather than rounded.
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise param_error("/amount/total", "应为不小于1的整数（单位：分）", total)
    currency = amount.get("currency", "CNY")
    if currency != "CNY":
        raise param_error("/amount/currency", "币种仅支持CNY", currency)
    return total, currency


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
