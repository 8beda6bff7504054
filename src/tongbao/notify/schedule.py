"""When merchant notifications are retried: WeChat Pay's own schedule, which merchants know."""

from __future__ import annotations

from typing import Final

# Delays after a failed attempt: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h.
RETRY_DELAYS_S: Final = (
    15,
    15,
    30,
    180,
    600,
    1200,
    1800,
    1800,
    1800,
    3600,
    10800,
    10800,
    10800,
    21600,
    21600,
)


def delay_after(failed_attempts: int) -> int | None:
    """Seconds until the next attempt after ``failed_attempts`` failures; None when it is time to give up."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS_S):
        return None
    return RETRY_DELAYS_S[failed_attempts - 1]
