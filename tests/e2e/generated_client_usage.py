"""A merchant's code on a client generated from ``/openapi.json`` (package ``tongbao_api``): only
the generated typed functions, with ``tongbao.client``'s hooks signing every request and verifying
every answer.

tests/e2e/test_generated_client.py generates the package, type-checks this file against it and
runs it on the demo. Where the document does not type a field yet (it is ``Any`` in the
generated models), a plain JSON value is given; ``from_dict`` turns it into whatever the model
holds, an enum included, so this file keeps working as the document gains types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
from tongbao_api import AuthenticatedClient
from tongbao_api.api.merchant_api import get_me
from tongbao_api.api.merchant_api_payments import create_payment, find_payment, get_payment
from tongbao_api.models import MePublic, PaymentCreate, PaymentPublic

from tongbao.client import signing_hook, verifying_hook


def signed_client(
    base_url: str, app_id: str, app_secret: str, *, verify_with: str | None = None
) -> AuthenticatedClient:
    hooks = {
        "request": [signing_hook(app_id, app_secret)],
        "response": [verifying_hook(verify_with or app_secret)],
    }
    # The generated client would send its token as the Authorization header; the signing hook
    # writes the request's signature there instead.
    return AuthenticatedClient(
        base_url=base_url, token="", prefix="", timeout=httpx.Timeout(30), httpx_args={"event_hooks": hooks}
    )


def plain(value: object) -> object:
    """A field's JSON value, whether the document types it as an enum or as a string."""
    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class ReadBack:
    created_status: int
    created: PaymentPublic
    by_id: PaymentPublic
    by_out_trade_no: PaymentPublic


def create_and_read_back(client: AuthenticatedClient, fields: dict[str, Any]) -> ReadBack:
    created = create_payment.sync_detailed(client=client, body=PaymentCreate.from_dict(fields))
    assert isinstance(created.parsed, PaymentPublic), created.content
    by_id = get_payment.sync_detailed(created.parsed.id, client=client)
    assert isinstance(by_id.parsed, PaymentPublic), by_id.content
    found = find_payment.sync_detailed(client=client, out_trade_no=fields["out_trade_no"])
    assert isinstance(found.parsed, PaymentPublic), found.content  # one payment, not a list page
    return ReadBack(created.status_code, created.parsed, by_id.parsed, found.parsed)


def merchant_id(client: AuthenticatedClient) -> str:
    me = get_me.sync_detailed(client=client)
    assert isinstance(me.parsed, MePublic), me.content
    return me.parsed.merchant.id
