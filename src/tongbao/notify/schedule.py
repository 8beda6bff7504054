"""When merchant notifications are retried: WeChat Pay's own schedule, which merchants know."""

from __future__ import annotations

from typing import Final

from tongbao.channels.wechatpay.protocol import CALLBACK_RETRY_DELAYS_S

RETRY_DELAYS_S: Final = CALLBACK_RETRY_DELAYS_S


def delay_after(failed_attempts: int) -> int | None:
    """Seconds until the next attempt after ``failed_attempts`` failures; None when it is time to give up."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS_S):
        return None
    return RETRY_DELAYS_S[failed_attempts - 1]
