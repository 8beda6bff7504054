"""``tongbao chaos``, reduced: API and worker processes killed with SIGKILL under a mixed load through
three faulty simulators, on PostgreSQL; afterwards no money, notification or job is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import backends, throwaway_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgres" not in backends(), reason="several processes on one database: PostgreSQL"),
]


def _chaos(database_url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAO_")}
    env["TONGBAO_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "tongbao.cli", "chaos", "--workdir", str(workdir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def test_killed_processes_lose_no_money_no_notification_and_no_job(tmp_path: Path) -> None:
    with throwaway_database("postgres", tmp_path) as url:
        # Seed 2 kills both API processes and a worker in three rounds.
        done = _chaos(url, tmp_path / "run", "--rounds", "3", "--payments", "30", "--seed", "2", "--json")
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["violations"] == [], json.dumps(report, indent=1)[:6000]
    assert done.returncode == 0
    assert report["payments"] == 30 and len(report["kills"]) == 3
    assert report["payment_statuses"].get("closed", 0) > 0
    assert report["deliveries"] >= report["events"] > 0


def test_sqlite_is_refused_with_a_reason(tmp_path: Path) -> None:
    done = _chaos(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path / "run", "--rounds", "1")
    assert done.returncode == 2
    assert "PostgreSQL" in done.stderr
