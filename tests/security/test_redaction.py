"""The log redaction processor: secret field names, secret shapes, and remembered values."""

from __future__ import annotations

from typing import Any

import pytest

from tongbao.security.redaction import (
    REDACTED,
    redact_secrets,
    remember_process_secret,
    remember_secret,
    request_secrets,
)


def redacted(**event: Any) -> dict[str, Any]:
    return dict(redact_secrets(None, "error", dict(event)))


@pytest.mark.parametrize(
    "name",
    ["secret", "app_secret", "token", "operator_token", "password", "private_key", "private_key_pem",
     "api_v3_key", "apiv3_key", "Authorization", "credentials", "master-key"],
)  # fmt: skip
def test_fields_named_for_secrets_are_blanked(name: str) -> None:
    assert redacted(**{name: "hunter2-but-longer", "event": "x"}) == {name: REDACTED, "event": "x"}


def test_nested_fields_and_lists_are_cleaned() -> None:
    event = redacted(
        account={"config": {"mchid": "1900"}, "credentials": {"apiv3_key": "k" * 32}}, items=["a"]
    )
    assert event == {"account": {"config": {"mchid": "1900"}, "credentials": REDACTED}, "items": ["a"]}


def test_secret_shapes_are_blanked_anywhere_in_text() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----"
    text = f"key tbs_AbC-123_defGHIjkl and tbo_XyZ-98765432, Authorization: Bearer abc.def\n{pem}\nok"
    assert redacted(event=text)["event"] == (
        f"key {REDACTED} and {REDACTED}, Authorization: Bearer {REDACTED}\n{REDACTED}\nok"
    )


def test_values_remembered_by_a_request_are_blanked_only_while_it_runs() -> None:
    with request_secrets():
        remember_secret("0123456789abcdef0123456789abcdef")
        remember_secret("short")  # too short to blank without blanking ordinary words
        assert redacted(event="key 0123456789abcdef0123456789abcdef is short") == {
            "event": f"key {REDACTED} is short"
        }
    assert redacted(event="0123456789abcdef0123456789abcdef") == {"event": "0123456789abcdef0123456789abcdef"}
    remember_secret("outside-any-request-value")  # nowhere to remember it: nothing happens
    assert redacted(event="outside-any-request-value") == {"event": "outside-any-request-value"}


def test_process_secrets_are_blanked_everywhere() -> None:
    remember_process_secret("process-wide-master-key-text")
    assert redacted(event="the key process-wide-master-key-text") == {"event": f"the key {REDACTED}"}


def test_ordinary_fields_are_untouched() -> None:
    event = {
        "event": "payment created",
        "payment_id": "pay_01",
        "amount": 1234,
        "exc_info": True,
        "token_count": None,
    }
    assert redacted(**event) == event
