"""A Python client generated from the served ``/openapi.json`` by openapi-python-client works as
a merchant would use it: it imports, it type-checks together with code that uses it
(tests/e2e/generated_client_usage.py), and its typed functions create and read back a payment on
the demo, signed and verified by ``tongbao.client``'s httpx hooks.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tongbao.client import ResponseSignatureInvalid

from ..support.demo_server import DemoRun

pytestmark = pytest.mark.slow  # a real demo process, the generator and mypy

GENERATOR = "openapi_python_client"
PACKAGE = "tongbao_api"
USAGE_MODULE = "tests.e2e.generated_client_usage"
USAGE = Path(__file__).with_name("generated_client_usage.py")
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass(frozen=True)
class Generated:
    root: Path  # holds the package PACKAGE
    took_s: float


@pytest.fixture(scope="module")
def generated(running_demo: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    if importlib.util.find_spec(GENERATOR) is None:
        pytest.fail("openapi-python-client is missing: install the test extras (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    served = httpx.get(running_demo.state["base_url"] + "/openapi.json", timeout=30)
    assert served.status_code == 200
    document.write_bytes(served.content)
    config = root / "config.json"
    # No post hooks: formatting the output with ruff is not needed to import or check it.
    config.write_text(json.dumps({"post_hooks": []}))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", GENERATOR, "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(root / PACKAGE), "--config", str(config)],
        capture_output=True, text=True, timeout=300, cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # A warning means a piece of the document the generator could not turn into code.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    return Generated(root, time.monotonic() - started)


def fresh_import(generated: Generated) -> ModuleType:
    """The usage module on this run's generated package (each backend's run generates its own)."""
    for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE or m == USAGE_MODULE]:
        del sys.modules[name]
    sys.path.insert(0, str(generated.root))
    try:
        return importlib.import_module(USAGE_MODULE)
    finally:
        sys.path.remove(str(generated.root))


def test_the_generated_package_and_its_use_type_check(generated: Generated) -> None:
    config = generated.root / "mypy.ini"
    # Strict on the generated package and on the code using it; Tongbao itself is checked by the
    # project's own mypy run, with its own settings.
    config.write_text("[mypy]\nstrict = True\n\n[mypy-tongbao.*]\nfollow_imports = silent\n")
    cache = generated.root / ".mypy_cache"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(cache),
         str(generated.root / PACKAGE), str(USAGE)],
        capture_output=True, text=True, timeout=600, cwd=generated.root,
        env={**os.environ, "MYPYPATH": f"{generated.root}{os.pathsep}{SRC}"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_generated_client_creates_and_reads_back_a_payment(
    generated: Generated, running_demo: DemoRun
) -> None:
    usage = fresh_import(generated)
    state = running_demo.state
    trade_no = f"G-{secrets.token_hex(6)}"
    fields = {"out_trade_no": trade_no, "amount": 1234, "subject": "Flat white", "method": "wechat_native"}
    with usage.signed_client(state["base_url"], state["app_id"], state["app_secret"]) as client:
        seen = usage.create_and_read_back(client, fields)

    assert seen.created_status == 201
    created = seen.created
    assert created.id.startswith("pay_") and created.out_trade_no == trade_no
    assert created.amount == 1234 and usage.plain(created.status) == "pending"
    assert usage.plain(created.method) == "wechat_native" and usage.plain(created.channel) == "wechatpay"
    assert [usage.plain(a.status) for a in created.attempts] == ["pending"]
    assert seen.by_id.to_dict() == created.to_dict()
    assert seen.by_out_trade_no.to_dict() == created.to_dict()


def test_the_hooks_sign_requests_and_refuse_an_answer_that_does_not_verify(
    generated: Generated, running_demo: DemoRun
) -> None:
    usage = fresh_import(generated)
    state = running_demo.state
    with usage.signed_client(state["base_url"], state["app_id"], state["app_secret"]) as client:
        assert usage.merchant_id(client) == state["merchant_id"]
    # Signed right, but checked with another secret: the answer is refused, never parsed.
    checked_wrong = usage.signed_client(
        state["base_url"], state["app_id"], state["app_secret"], verify_with="tbs_another-app-secret"
    )
    with checked_wrong as client, pytest.raises(ResponseSignatureInvalid):
        usage.merchant_id(client)
