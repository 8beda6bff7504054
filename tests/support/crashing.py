"""A Tongbao with routes that fail unexpectedly, for the crash paths no real input reaches.

It is built by ``create_app`` like the real one, on the stack's database, with one extra router.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header

from tongbao.api.app import create_app
from tongbao.api.deps import CallerDep, OperatorDep
from tongbao.bootstrap import build_container
from tongbao.security.master_key import MasterKey
from tongbao.security.secretbox import decode_master_key

from .live_server import LiveServer
from .stack import Stack

CRASH_SIGNED = "/v1/test/crash"
CRASH_OPERATOR = "/admin/v1/test/crash"

router = APIRouter(tags=["test only"])


@router.post(CRASH_SIGNED)
async def crash_signed(caller: CallerDep) -> None:
    # Some library errors quote their input: this one quotes the app's secret.
    raise RuntimeError(f"the key {caller.secrets[0]} was refused")


@router.get(CRASH_OPERATOR)
async def crash_operator(_: OperatorDep, authorization: Annotated[str, Header()]) -> None:
    # ``authorization`` (the operator's token) is a local of the failing frame.
    raise RuntimeError(f"the operator call failed with {len(authorization)} bytes of credentials")


@contextmanager
def crashing_tongbao(stack: Stack) -> Iterator[str]:
    """Serves the extra routes on the stack's database and clock; yields the base URL."""
    key = MasterKey(decode_master_key(stack.master_key_text), "environment")
    container = build_container(stack.container.settings, key, clock=stack.clock)
    server = LiveServer(create_app(container, own_container=True, routers=[router])).start()
    try:
        yield server.url
    finally:
        server.stop()
