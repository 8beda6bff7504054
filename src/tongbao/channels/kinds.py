"""The channels Tongbao speaks to and the pay methods each offers. Imports nothing, so that every
layer (channels, merchants, payments, the simulators' callers) can name them."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WECHATPAY = "wechatpay"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"


class Method(StrEnum):
    WECHAT_NATIVE = "wechat_native"
    WECHAT_JSAPI = "wechat_jsapi"
    WECHAT_H5 = "wechat_h5"
    WECHAT_APP = "wechat_app"
    ALIPAY_QR = "alipay_qr"
    ALIPAY_PAGE = "alipay_page"
    ALIPAY_WAP = "alipay_wap"
    ALIPAY_APP = "alipay_app"
    ALIPAY_BARCODE = "alipay_barcode"
    UNIONPAY_WEB = "unionpay_web"
    UNIONPAY_WAP = "unionpay_wap"

    @property
    def channel(self) -> Channel:
        prefix = self.value.split("_", 1)[0]
        return {"wechat": Channel.WECHATPAY, "alipay": Channel.ALIPAY, "unionpay": Channel.UNIONPAY}[prefix]
