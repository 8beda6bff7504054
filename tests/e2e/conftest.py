from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..support.databases import backends
from ..support.demo_server import DemoRun, serve_demo


@pytest.fixture(scope="module", params=backends())
def running_demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoRun]:
    """One ``tongbao serve --demo`` per backend for a whole test module: the demo keeps what
    earlier tests made, so tests use fresh ``out_trade_no`` values."""
    with serve_demo(request.param, tmp_path_factory.mktemp(f"demo-{request.param}")) as run:
        yield run
