from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..support.databases import backends, throwaway_database


# One database is enough to see a bench work end to end: PostgreSQL, which they are for, when it is
# there (the suite's other tests cover both).
@pytest.fixture(params=backends()[-1:])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path) as url:
        yield url


def run_command(database_url: str, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """``tongbao bench … --json`` as a person runs it, on the given database, whatever it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAO_")}
    env["TONGBAO_DATABASE_URL"] = database_url
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "tongbao.cli", "bench", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def figures_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON object the command printed."""
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, done.stdout[-3000:] + done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(lines[0])
    return figures


def run_bench(database_url: str, *args: str, timeout_s: float = 120) -> dict[str, Any]:
    """``tongbao bench … --json`` on the given database, which must succeed; its one JSON object."""
    done = run_command(database_url, *args, timeout_s=timeout_s)
    assert done.returncode == 0, done.stderr[-3000:]
    return figures_of(done)
