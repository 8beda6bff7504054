"""Per-endpoint concurrency limits and the HTTP client for merchant notifications, per process.

At most ``per_endpoint`` deliveries run at once to one scheme://host:port, and every POST has a
timeout, so a slow or dead merchant endpoint holds only its own share of the worker and never
delays anyone else's notifications. As many more may wait for a free slot; past that an endpoint
is *crowded*, and its further events are put back until a try could have ended, instead of being
claimed again every second (that churn cost the worker the CPU the healthy endpoints needed).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx


class EndpointLimit:
    """One endpoint's delivery slots, and how many deliveries wait for one."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.waiting = 0
        self._free = asyncio.Semaphore(slots)

    @property
    def crowded(self) -> bool:
        """Every slot taken and as many deliveries waiting as it has slots."""
        return self._free.locked() and self.waiting >= self.slots

    async def __aenter__(self) -> None:
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1

    async def __aexit__(self, *_: object) -> None:
        self._free.release()


class EndpointPool:
    """Per-endpoint concurrency limits and the HTTP client for notifications, per process."""

    def __init__(self, per_endpoint: int, timeout_s: float) -> None:
        self.per_endpoint = per_endpoint
        self.timeout_s = timeout_s
        self._limits: dict[str, EndpointLimit] = {}
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s), follow_redirects=False)
        return self._http

    def limit(self, url: str) -> EndpointLimit:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        if key not in self._limits:
            self._limits[key] = EndpointLimit(self.per_endpoint)
        return self._limits[key]

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
