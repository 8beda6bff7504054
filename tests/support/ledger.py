"""The ledger as its users meet it: ``tongbao ledger …`` and ``tongbao recon internal`` run as
commands against the test stack's database, and the admin API's accounts."""

from __future__ import annotations

import json
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from tongbao.cli.main import app

from .factories import ok
from .stack import Stack


def tongbao_cli(stack: Stack, *args: str) -> Result:
    """The ``tongbao`` command, run as typed (in this process, to spare the interpreter's start)."""
    env = {
        "TONGBAO_DATABASE_URL": stack.database_url,
        "TONGBAO_MASTER_KEY": stack.master_key_text,
        "TONGBAO_DATA_DIR": str(stack.container.settings.data_dir),
    }
    return CliRunner().invoke(app, list(args), env=env)


def cli_json(stack: Stack, *args: str) -> tuple[int, dict[str, Any]]:
    done = tongbao_cli(stack, *args, "--json")
    assert done.stdout.strip(), (done.output, done.exception)
    return done.exit_code, json.loads(done.stdout.strip().splitlines()[-1])


def fold_and_seal(stack: Stack) -> None:
    for command in ("fold", "seal"):
        done = tongbao_cli(stack, "ledger", command)
        assert done.exit_code == 0, (done.output, done.exception)


def balance(admin: httpx.Client, account_id: str) -> int:
    response = admin.get(f"/admin/v1/ledger/accounts/{account_id}")
    if response.status_code == 404:
        return 0
    return ok(response)["balance"]  # type: ignore[no-any-return]
