"""``/callbacks/{channel}/{channel_account_id}/refunds``: where the channels tell us about refunds.

Verified by the account's adapter before anything is believed, like payment callbacks; a refund the
account does not hold is refused; a verified result is applied once and acknowledged, repeats too.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request, Response

from tongbao.api.deps import ContainerDep
from tongbao.payments.callback_api import answer, read_callback
from tongbao.refunds.models import Refund
from tongbao.refunds.results import apply_refund_result

router = APIRouter(prefix="/callbacks", tags=["channel callbacks"], include_in_schema=False)
log = structlog.get_logger(__name__)


@router.post("/{channel}/{channel_account_id}/refunds")
async def refund_callback(
    c: ContainerDep, channel: str, channel_account_id: str, request: Request
) -> Response:
    read = await read_callback(
        c, channel, channel_account_id, request, lambda adapter, h, b: adapter.parse_refund_notification(h, b)
    )
    if isinstance(read, Response):
        return read
    adapter, result = read
    async with c.uow() as tx:
        refund = await tx.get(Refund, result.refund_no)
    if refund is None or refund.channel_account_id != channel_account_id:
        log.warning(
            "callback for a refund we do not know", account_id=channel_account_id, refund_no=result.refund_no
        )
        return answer(adapter, False, "unknown refund")
    applied = await apply_refund_result(c, refund.id, result, source="callback")
    log.info("refund callback applied", refund_id=refund.id, applied=applied.value)
    return answer(adapter, True)
