"""``tongbao serve --demo`` as a newcomer runs it: a real process on a real port, its demo.json."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .databases import throwaway_database

TONGBAO = [sys.executable, "-m", "tongbao.cli"]


@dataclass(frozen=True)
class DemoRun:
    data_dir: Path
    env: dict[str, str]

    @property
    def demo_json(self) -> Path:
        return self.data_dir / "demo.json"

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.demo_json.read_text())
        return state


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAO_")}
    env["TONGBAO_DATA_DIR"] = str(data_dir)
    if database_url:
        env["TONGBAO_DATABASE_URL"] = database_url
    return env


@contextmanager
def serve_demo(backend: str, workdir: Path, start_timeout_s: float = 60) -> Iterator[DemoRun]:
    """The demo on ``backend`` (its default SQLite file, or a throwaway PostgreSQL database)."""
    data_dir = workdir / "data"
    with throwaway_database(backend, workdir) as url:
        env = cli_env(data_dir, None if backend == "sqlite" else url)
        port = free_port()
        log_path = workdir / "serve.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [*TONGBAO, "serve", "--demo", "--port", str(port), "--data-dir", str(data_dir)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + start_timeout_s
                while True:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.2)
                yield DemoRun(data_dir, env)
            finally:
                server.terminate()
                server.wait(timeout=20)
