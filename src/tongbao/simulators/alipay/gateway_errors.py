"""The answers other than success, in Alipay's own terms: ``code``/``msg`` and, mostly,
``sub_code``/``sub_msg``; and the success node they stand beside."""

from __future__ import annotations

from typing import Any, Final

from tongbao.channels.alipay import protocol

SUB_MESSAGES: Final = {
    "ACQ.TRADE_NOT_EXIST": "交易不存在",
    "ACQ.TRADE_STATUS_ERROR": "交易状态不合法",
    "ACQ.TRADE_HAS_SUCCESS": "交易已被支付",
    "ACQ.TRADE_HAS_CLOSE": "交易已经关闭",
    "ACQ.CONTEXT_INCONSISTENT": "交易信息被篡改",
    "ACQ.PAYMENT_AUTH_CODE_INVALID": "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
    "ACQ.INVALID_PARAMETER": "参数无效",
    # alipay.trade.refund
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "退款金额超限",
    "ACQ.REASON_TRADE_REFUND_FEE_ERR": "退款金额无效",
    "ACQ.DISCORDANT_REPEAT_REQUEST": "请求信息不一致",
    "ACQ.CUSTOMER_VALIDATE_ERROR": "账户已注销或者被冻结",
}


class AlipayError(Exception):
    """An answer other than success: Alipay's ``code``/``msg`` and, mostly, ``sub_code``/``sub_msg``."""

    def __init__(self, code: str, msg: str, sub_code: str = "", sub_msg: str = "", http_status: int = 200):
        super().__init__(f"{code} {sub_code}: {sub_msg or msg}")
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg
        self.http_status = http_status

    def node(self) -> dict[str, str]:
        node = {"code": self.code, "msg": self.msg}
        if self.sub_code:
            node.update(sub_code=self.sub_code, sub_msg=self.sub_msg)
        return node


def success(**fields: Any) -> dict[str, Any]:
    return {"code": protocol.CODE_SUCCESS, "msg": "Success", **fields}


def business(sub_code: str, sub_msg: str | None = None) -> AlipayError:
    return AlipayError(protocol.CODE_BUSINESS, "Business Failed", sub_code, sub_msg or SUB_MESSAGES[sub_code])


def invalid(sub_code: str, sub_msg: str) -> AlipayError:
    return AlipayError(protocol.CODE_INVALID, "Invalid Arguments", sub_code, sub_msg)


def missing(name: str) -> AlipayError:
    return AlipayError(
        protocol.CODE_MISSING, "Missing Required Arguments", f"isv.missing-{name}", f"缺少{name}参数"
    )


def unavailable(http_status: int = 200) -> AlipayError:
    return AlipayError(
        protocol.CODE_UNAVAILABLE,
        "Service Currently Unavailable",
        "isp.unknow-error",
        "系统繁忙",
        http_status,
    )
