"""Per-endpoint concurrency limits and the HTTP client for merchant notifications, per process.

At most ``per_endpoint`` deliveries run at once to one scheme://host:port, and every POST has a
timeout, so a slow or dead merchant endpoint holds only its own share of the worker and never
delays anyone else's notifications.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx


class EndpointPool:
    """Per-endpoint concurrency limits and the HTTP client for notifications, per process."""

    def __init__(self, per_endpoint: int, timeout_s: float) -> None:
        self.per_endpoint = per_endpoint
        self.timeout_s = timeout_s
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s), follow_redirects=False)
        return self._http

    def limit(self, url: str) -> asyncio.Semaphore:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        if key not in self._limits:
            self._limits[key] = asyncio.Semaphore(self.per_endpoint)
        return self._limits[key]

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
