"""``/callbacks/{channel}/{channel_account_id}``: where the channels tell us about orders.

Nothing in a callback is believed before the account's adapter has verified it (signature,
platform key, freshness, decryption). Unverifiable callbacks are logged and refused in the
channel's format; verified ones are applied once and acknowledged, duplicates included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import structlog
from fastapi import APIRouter, Request, Response

from tongbao.api.deps import ContainerDep
from tongbao.channels.base import ChannelAdapter, NotificationRejected
from tongbao.container import Container
from tongbao.merchants.models import ChannelAccount
from tongbao.payments.models import PaymentAttempt
from tongbao.payments.results import apply_status

router = APIRouter(prefix="/callbacks", tags=["channel callbacks"], include_in_schema=False)
log = structlog.get_logger(__name__)


async def account_adapter(c: Container, channel: str, channel_account_id: str) -> ChannelAdapter | None:
    """The adapter of the channel account a callback URL names; None if there is no such account."""
    async with c.uow() as tx:
        account = await tx.get(ChannelAccount, channel_account_id)
    if account is None or account.channel != channel or not c.channels.supports(account.channel):
        log.warning("callback for an unknown channel account", channel=channel, account_id=channel_account_id)
        return None
    return c.channels.adapter(account.adapter_config())


def answer(adapter: ChannelAdapter, accepted: bool, reason: str = "") -> Response:
    """The acknowledgement (or refusal) in the channel's own format."""
    reply = adapter.reply(accepted, reason)
    return Response(reply.body, status_code=reply.status_code, media_type=reply.media_type)


Parsed = TypeVar("Parsed")


async def read_callback(
    c: Container,
    channel: str,
    channel_account_id: str,
    request: Request,
    parse: Callable[[ChannelAdapter, Mapping[str, str], bytes], Awaitable[Parsed]],
) -> tuple[ChannelAdapter, Parsed] | Response:
    """The account's adapter and what it verified the callback to say, or the refusal to send back."""
    body = await request.body()
    adapter = await account_adapter(c, channel, channel_account_id)
    if adapter is None:
        return Response(status_code=404)
    try:
        return adapter, await parse(adapter, request.headers, body)
    except NotificationRejected as exc:
        log.warning("callback rejected", account_id=channel_account_id, code=exc.code, reason=exc.message)
        return answer(adapter, False, exc.message)


@router.post("/{channel}/{channel_account_id}")
async def channel_callback(
    c: ContainerDep, channel: str, channel_account_id: str, request: Request
) -> Response:
    read = await read_callback(
        c, channel, channel_account_id, request, lambda adapter, h, b: adapter.parse_notification(h, b)
    )
    if isinstance(read, Response):
        return read
    adapter, status = read
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, status.order_no)
    if attempt is None or attempt.channel_account_id != channel_account_id:
        log.warning(
            "callback for an order we do not know", account_id=channel_account_id, order_no=status.order_no
        )
        return answer(adapter, False, "unknown order")
    result = await apply_status(c, attempt.id, status, source="callback")
    log.info(
        "callback applied", attempt_id=attempt.id, applied=result.applied.value, payment=result.payment_status
    )
    return answer(adapter, True)
