"""Authenticating a merchant API request: who signed it, whether it is fresh, whether it is allowed."""

from __future__ import annotations

from dataclasses import dataclass

from tongbao.container import Container
from tongbao.db.statements import core_transaction
from tongbao.errors import Forbidden, Unauthorized
from tongbao.merchants.app_service import AppService, Caller
from tongbao.merchants.domain.apps import ip_allowed
from tongbao.security import idempotency, signing
from tongbao.security.idempotency import Claim
from tongbao.security.replay import consume_nonce, replayed, take_nonce


@dataclass(frozen=True)
class Authenticated:
    caller: Caller
    response_secret: str  # the secret that signs the answer: the one the request proved it holds
    claimed: bool | None = None  # with an idempotency claim: whether the key was free


def _proved_secret(caller: Caller, auth: signing.Authorization, message: bytes) -> str:
    """The secret the signature proves the caller holds (for RSA: the app's current one)."""
    if auth.scheme == signing.HMAC_SCHEME:
        secret = next((s for s in caller.secrets if signing.hmac_verify(s, message, auth.signature)), None)
        if secret is None:
            raise Unauthorized(_signature_hint(), code="signature_invalid", param="signature")
        return secret
    pem = caller.app.rsa_public_key_pem
    if not pem:
        raise Unauthorized(
            "this app has no RSA public key; sign with TONGBAO-HMAC-SHA256 or register one",
            code="signature_invalid",
            param="signature",
        )
    if not signing.rsa_verify(pem, message, auth.signature):
        raise Unauthorized(_signature_hint(), code="signature_invalid", param="signature")
    return caller.secrets[0]


async def authenticate(
    c: Container,
    authorization: str | None,
    *,
    method: str,
    path_and_query: str,
    body: bytes,
    client_ip: str | None,
    claim: Claim | None = None,
) -> Authenticated:
    """Who signed the request, with its nonce spent; with ``claim``, its idempotency key claimed in
    the same transaction as the nonce (one round of the database for the whole door)."""
    if not authorization:
        raise Unauthorized(
            "sign the request: Authorization: TONGBAO-HMAC-SHA256 app_id=…,timestamp=…,nonce=…,signature=…",
            code="authorization_missing",
            param="Authorization",
        )
    try:
        auth = signing.parse_authorization(authorization)
    except signing.MalformedAuthorization as exc:
        raise Unauthorized(str(exc), code="authorization_malformed", param="Authorization") from exc

    now = int(c.clock.now().timestamp())
    window = c.settings.signature_window_s
    if abs(now - auth.timestamp) > window:
        direction = "in the future" if auth.timestamp > now else "too old"
        raise Unauthorized(
            f"timestamp is {direction}: it must be within {window} s of the server's clock ({now})",
            code="timestamp_out_of_window",
            param="timestamp",
        )

    caller = await AppService(c).caller(auth.app_id)
    if caller is None:
        raise Unauthorized(f"no app {auth.app_id}", code="app_unknown", param="app_id")

    message = signing.request_message(method, path_and_query, auth.timestamp, auth.nonce, body)
    try:
        secret = _proved_secret(caller, auth, message)
    except Unauthorized:
        # A secret rotated or a key registered in another process since this one cached the app.
        caller = await AppService(c).caller(auth.app_id, fresh=True)
        if caller is None:
            raise
        secret = _proved_secret(caller, auth, message)

    refusal = _refusal(caller, client_ip)
    if refusal is not None or claim is None:
        await consume_nonce(c, auth.app_id, auth.nonce)  # a replay is told so before a refusal
        if refusal is not None:
            raise refusal
        return Authenticated(caller, secret)
    async with core_transaction(c.engine) as tx:
        if not await take_nonce(c, tx, auth.app_id, auth.nonce):
            await tx.rollback()
            raise replayed()
        claimed = await idempotency.claim(c, tx, auth.app_id, claim)
        await tx.commit()
    return Authenticated(caller, secret, claimed)


def _refusal(caller: Caller, client_ip: str | None) -> Forbidden | None:
    app = caller.app
    if not app.enabled:
        return Forbidden(f"app {app.id} is disabled", code="app_disabled", param="app_id")
    if not ip_allowed(app.ip_allowlist, client_ip):
        return Forbidden(f"{client_ip} is not on this app's IP allowlist", code="ip_not_allowed")
    return None


def _signature_hint() -> str:
    return (
        "the signature does not match: sign METHOD\\nPATH_AND_QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n "
        "with the app secret, over the exact body bytes sent"
    )
