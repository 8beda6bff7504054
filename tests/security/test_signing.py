"""The signature scheme shared by server and client."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongbao.security import signing

from ..support.factories import rsa_pair

secrets_ = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=512)
nonces = st.from_regex(r"[A-Za-z0-9_\-]{16,64}", fullmatch=True)
paths = st.from_regex(r"/v1/[a-z/]{0,20}(\?[a-z]=[0-9]{1,3})?", fullmatch=True)


@given(secrets_, st.sampled_from(["GET", "POST"]), paths, st.integers(0, 2**33), nonces, bodies)
def test_hmac_verifies_its_own_signature_and_nothing_else(
    secret: str, method: str, path: str, ts: int, nonce: str, body: bytes
) -> None:
    message = signing.request_message(method, path, ts, nonce, body)
    signature = signing.hmac_sign(secret, message)
    assert signing.hmac_verify(secret, message, signature)
    assert not signing.hmac_verify(
        secret, signing.request_message(method, path, ts, nonce, body + b"x"), signature
    )
    assert not signing.hmac_verify(secret + "x", message, signature)
    assert not signing.hmac_verify(
        secret, signing.request_message(method, path, ts + 1, nonce, body), signature
    )


@given(st.integers(0, 2**33), nonces, st.text(alphabet="abcdefABCDEF0123456789+/=", min_size=1, max_size=60))
def test_authorization_header_round_trips(ts: int, nonce: str, signature: str) -> None:
    app_id = "app_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for scheme in signing.SCHEMES:
        header = signing.format_authorization(scheme, app_id, ts, nonce, signature)
        assert signing.parse_authorization(header) == signing.Authorization(
            scheme, app_id, ts, nonce, signature
        )


def test_rsa_signature_verifies_with_the_public_key_only() -> None:
    private, public = rsa_pair(0)
    _, other_public = rsa_pair(1)
    message = signing.request_message("POST", "/v1/echo", 1764000000, "0123456789abcdef", b"{}")
    signature = signing.rsa_sign(private, message)
    assert signing.rsa_verify(public, message, signature)
    assert not signing.rsa_verify(other_public, message, signature)
    assert not signing.rsa_verify(public, message + b" ", signature)
    assert not signing.rsa_verify(public, message, "not base64!")


def test_worked_example_from_the_docs() -> None:
    """docs/api.md walks through exactly this computation; keep the two in step."""
    message = signing.request_message(
        "POST", "/v1/echo", 1764000000, "n0nce-0123456789", b'{"out_trade_no":"T1001","amount":1250}'
    )
    assert message == (
        b'POST\n/v1/echo\n1764000000\nn0nce-0123456789\n{"out_trade_no":"T1001","amount":1250}\n'
    )
    assert signing.hmac_sign("tbs_example-secret", message) == "z6pI6SLfktF7zBJ21F+roL3V8SFiQ7pMTXTV3BzAGX4="


@pytest.mark.parametrize("header", ["", "TONGBAO-HMAC-SHA256 ", 'TONGBAO-HMAC-SHA256 app_id="x"'])
def test_malformed_headers_raise(header: str) -> None:
    with pytest.raises(signing.MalformedAuthorization):
        signing.parse_authorization(header)
