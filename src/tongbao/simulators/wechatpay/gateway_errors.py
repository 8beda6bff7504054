"""Errors the simulator answers with, in WeChat Pay's own JSON shape ``{code, message, detail?}``."""

from __future__ import annotations

from typing import Any


class WeChatApiError(Exception):
    """A v3 API error: HTTP status plus WeChat's ``code`` and ``message`` (and ``detail`` for fields)."""

    def __init__(self, status: int, code: str, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def param_error(field: str, issue: str, value: Any = None, location: str = "body") -> WeChatApiError:
    """PARAM_ERROR naming the field as a JSON pointer (``/amount/total``), as WeChat does."""
    detail: dict[str, Any] = {"location": location, "field": field, "issue": issue}
    if value is not None:
        detail["value"] = value
    return WeChatApiError(400, "PARAM_ERROR", f"输入源“/{location}{field}”校验失败：{issue}", detail)


def sign_error() -> WeChatApiError:
    return WeChatApiError(401, "SIGN_ERROR", "签名错误")


def system_error() -> WeChatApiError:
    return WeChatApiError(500, "SYSTEM_ERROR", "系统异常，请稍后重试")


def order_not_exist() -> WeChatApiError:
    return WeChatApiError(404, "ORDER_NOT_EXIST", "订单不存在")


def resource_not_exists(message: str) -> WeChatApiError:
    """The refund API's 404: an unknown or unpaid order, or an unknown refund."""
    return WeChatApiError(404, "RESOURCE_NOT_EXISTS", message)


def invalid_request(message: str) -> WeChatApiError:
    """Well-formed, but against a business rule ("请求参数符合参数格式，但不符合业务规则")."""
    return WeChatApiError(400, "INVALID_REQUEST", message)
