"""The path a signature covers: below any mount prefix, with the query string exactly as sent."""

from __future__ import annotations

from typing import Any

import pytest

from tongbao.simulators.base.wire import channel_path, mount_prefix


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (
            {
                "path": "/v3/certificates",
                "raw_path": b"/v3/certificates",
                "root_path": "",
                "query_string": b"",
            },
            "/v3/certificates",
        ),
        (
            {
                "path": "/sim/wechatpay/v3/pay/transactions/out-trade-no/A1",
                "root_path": "/sim/wechatpay",
                "raw_path": b"/sim/wechatpay/v3/pay/transactions/out-trade-no/A1",
                "query_string": b"mchid=19%2000",
            },
            "/v3/pay/transactions/out-trade-no/A1?mchid=19%2000",
        ),
        # Without raw_path, the decoded path still works.
        ({"path": "/p/v3/certificates", "root_path": "/p", "query_string": b""}, "/v3/certificates"),
        # A prefix that is only a string prefix of another segment is not stripped.
        (
            {
                "path": "/simx/v3/certificates",
                "raw_path": b"/simx/v3/certificates",
                "root_path": "/sim",
                "query_string": b"",
            },
            "/simx/v3/certificates",
        ),
    ],
)
def test_channel_path(scope: dict[str, Any], expected: str) -> None:
    assert channel_path(scope) == expected


def test_mount_prefix() -> None:
    assert mount_prefix({"root_path": "/sim/wechatpay"}) == "/sim/wechatpay"
    assert mount_prefix({"root_path": ""}) == ""
    assert mount_prefix({}) == ""
