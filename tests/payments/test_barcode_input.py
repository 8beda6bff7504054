"""Barcode payments need the payer's auth code, and only they take one."""

from __future__ import annotations

import pytest

from tests.support.factories import error_of
from tests.support.wechat import WeChatMerchant


@pytest.mark.parametrize(
    ("auth_code", "code"),
    [(None, "parameter_missing"), ("", "parameter_missing"), ("12345", "auth_code_invalid"),
     ("2812345678901234x", "auth_code_invalid"), ("18" + "0" * 16, "auth_code_invalid"),
     ("28" + "0" * 23, "auth_code_invalid"), (28123456789012345, "parameter_invalid")],
)  # fmt: skip
def test_alipay_barcode_without_a_valid_auth_code_is_refused(
    shop: WeChatMerchant, auth_code: object, code: str
) -> None:
    fields = {"method": "alipay_barcode", "out_trade_no": "bar-1"}
    if auth_code is not None:
        fields["auth_code"] = auth_code  # type: ignore[assignment]
    error = error_of(shop.create_payment(**fields), 400)
    assert (error["code"], error["param"]) == (code, "auth_code")
    assert error_of(shop.client.get("/v1/payments", params={"out_trade_no": "bar-1"}), 404)


def test_an_auth_code_for_a_method_that_takes_none_is_refused(shop: WeChatMerchant) -> None:
    error = error_of(shop.create_payment(auth_code="281234567890123456"), 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", "auth_code")
