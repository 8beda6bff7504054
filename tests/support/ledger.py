"""The ledger as its users meet it: ``tongbao ledger …`` and ``tongbao recon internal`` run as
commands against the test stack's database, and the admin API's accounts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx

from .factories import ok
from .stack import Stack


def tongbao_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TONGBAO_DATABASE_URL": stack.database_url,
        "TONGBAO_MASTER_KEY": stack.master_key_text,
        "TONGBAO_DATA_DIR": str(stack.container.settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "tongbao.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def cli_json(stack: Stack, *args: str) -> tuple[int, dict[str, Any]]:
    done = tongbao_cli(stack, *args, "--json")
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def fold_and_seal(stack: Stack) -> None:
    for command in ("fold", "seal"):
        done = tongbao_cli(stack, "ledger", command)
        assert done.returncode == 0, done.stderr


def balance(admin: httpx.Client, account_id: str) -> int:
    response = admin.get(f"/admin/v1/ledger/accounts/{account_id}")
    if response.status_code == 404:
        return 0
    return ok(response)["balance"]  # type: ignore[no-any-return]
