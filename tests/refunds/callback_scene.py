"""A paid WeChat Pay payment with one pending 100-fen refund whose own callbacks are held back, so
that the tests send the channel's refund callbacks by hand, signed like the platform signs them."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.refunds.support import paid, refund
from tests.support.factories import ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_faults
from tests.support.wechat_callbacks import Callback, Scene
from tongbao.channels.wechatpay import protocol


class RefundScene(Scene):
    refund_id: str = ""

    def refund_resource(self, **changes: Any) -> dict[str, Any]:
        amount = self.payment["amount"]
        return {
            "mchid": self.shop.mchid,
            "out_trade_no": self.order_no,
            "transaction_id": self.payment["channel_trade_no"],
            "out_refund_no": self.refund_id,
            "refund_id": "5030" + "".join(secrets.choice("0123456789") for _ in range(24)),
            "refund_status": "SUCCESS",
            "success_time": protocol.rfc3339(self.tongbao.clock.now()),
            "user_received_account": "招商银行信用卡0403",
            "amount": {"total": amount, "refund": 100, "payer_total": amount, "payer_refund": 100},
            **changes,
        }

    def refund_envelope(self, apiv3_key: bytes | None = None, **changes: Any) -> bytes:
        return self.envelope(
            self.refund_resource(**changes),
            apiv3_key,
            event_type="REFUND.SUCCESS",
            original_type="refund",
            summary="退款成功",
        )

    def genuine_refund(self, **changes: Any) -> Callback:
        return self.signed(self.refund_envelope(**changes))


@pytest.fixture(name="scene")
def scene_fixture(tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant) -> RefundScene:
    # The channel's own refund callbacks are held back, so only the hand-made ones arrive.
    sim_faults(tongbao, {"endpoint": "refund_callback", "kind": "lost", "rate": 1.0})
    payment = paid(tongbao, shop, amount=1000)
    made = RefundScene(tongbao, admin, shop, payment)
    made.refund_id = ok(refund(shop, payment["id"], 100), 201)["id"]
    tongbao.wechatpay_wait()
    return made
