"""Secrets at rest: AES-GCM under the master key, bound to what they belong to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongbao.security.secretbox import (
    MasterKeyInvalid,
    SecretBox,
    SecretUnreadable,
    decode_master_key,
    generate_master_key,
)

BOX = SecretBox(decode_master_key(generate_master_key()))
OTHER = SecretBox(decode_master_key(generate_master_key()))


@given(st.text(max_size=2000), st.text(min_size=1, max_size=60))
def test_seal_opens_only_with_the_same_key_and_context(plaintext: str, context: str) -> None:
    sealed = BOX.seal(plaintext, context)
    assert BOX.open(sealed, context) == plaintext
    if plaintext:
        assert plaintext not in sealed.partition(".")[2] or len(plaintext) < 4
    with pytest.raises(SecretUnreadable):
        BOX.open(sealed, context + "x")
    with pytest.raises(SecretUnreadable):
        OTHER.open(sealed, context)


def test_each_seal_is_different() -> None:
    assert BOX.seal("same", "ctx") != BOX.seal("same", "ctx")


def test_tampered_or_foreign_tokens_do_not_open() -> None:
    sealed = BOX.seal("secret", "ctx")
    middle = len(sealed) // 2  # a character that carries ciphertext bits, not base64 padding
    flipped = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    for token in (flipped, "v2." + sealed[3:], "v1.not-base64!", "garbage"):
        with pytest.raises(SecretUnreadable):
            BOX.open(token, "ctx")


@pytest.mark.parametrize("text", ["", "short", "!!!!", "A" * 60])
def test_master_key_must_be_32_bytes_of_base64(text: str) -> None:
    with pytest.raises(MasterKeyInvalid):
        decode_master_key(text)
