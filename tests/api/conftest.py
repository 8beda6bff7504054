from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog

from tongbao.cli.runtime import configure_logging

from ..support.crashing import crashing_tongbao
from ..support.stack import Stack


@pytest.fixture(scope="session")
def crashing(stack: Stack) -> Iterator[str]:
    """The base URL of a Tongbao with test-only routes that raise (see tests/support/crashing.py)."""
    with crashing_tongbao(stack) as url:
        yield url


@dataclass
class ServerLog:
    """What the in-process servers log, configured as ``tongbao serve`` configures it."""

    capfd: pytest.CaptureFixture[str]
    json: bool
    text: str = ""
    asgi_errors: list[logging.LogRecord] = field(default_factory=list)

    def start(self) -> None:
        # Called from the test itself: the captured stderr of set-up is not the test's.
        configure_logging(json_logs=self.json)

    def read(self) -> str:
        self.text += self.capfd.readouterr().err
        return self.text

    def wait_for(self, done: Callable[[str], bool], timeout_s: float = 10) -> str:
        deadline = time.monotonic() + timeout_s
        while not done(self.read()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.text

    def unhandled(self) -> list[dict[str, Any]]:
        """The ``unhandled error`` entries (JSON mode) or lines (console mode, as {"line": …})."""
        if self.json:
            entries = [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]
            return [e for e in entries if e.get("event") == "unhandled error"]
        return [{"line": line} for line in self.text.splitlines() if "unhandled error" in line]


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(params=[False, True], ids=["console-log", "json-log"])
def server_log(request: pytest.FixtureRequest, capfd: pytest.CaptureFixture[str]) -> Iterator[ServerLog]:
    """Call ``start()`` first; the logging set-up is put back afterwards."""
    saved = structlog.get_config()
    log = ServerLog(capfd, json=request.param)
    # The ASGI server's own "Exception in ASGI application": an error that escaped Tongbao.
    handler = _Collect(log.asgi_errors)
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        yield log
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
        structlog.configure(**saved)
