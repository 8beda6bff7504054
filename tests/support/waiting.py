"""Waiting for what happens in the background on real time: ask until it is so, with a deadline,
rather than sleep a guess that is too long on a fast machine and too short on a slow one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.02) -> T:
    """Asks ``check`` until it returns something truthy and returns that; fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout_s} s: {check}")
        time.sleep(interval_s)
