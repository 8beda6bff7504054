"""The simulators stand apart from the gateway they test: from Tongbao they import only their own
channel's wire rules (``tongbao.channels.<name>.protocol``) and a small shared kernel, so that
nothing the gateway does can leak into what a channel answers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import tongbao.simulators

SIMULATORS = Path(tongbao.simulators.__file__).parent
CHANNELS = ("wechatpay", "alipay", "unionpay")
KERNEL = ("tongbao.clock", "tongbao.money", "tongbao.security.signing", "tongbao.security.samples")


def module_name(path: Path) -> str:
    parts = path.relative_to(SIMULATORS.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def statements(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str, list[str]]]:
    """Each import in ``source``, wherever it sits (in a function, under TYPE_CHECKING), as its line,
    the absolute module it names and, for ``from M import n``, the names ``M.n`` it takes (``n`` may
    be a submodule or a name in ``M``)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level > len(package):
                target = "." * node.level + (node.module or "")  # above the top package: refused below
            elif node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield node.lineno, target, [f"{target}.{alias.name}" for alias in node.names]


def allowed(name: str, module: str) -> bool:
    """Whether the simulator module ``module`` may import ``name`` (a module, or a name inside one)."""
    if name.startswith("."):
        return False
    if name != "tongbao" and not name.startswith("tongbao."):
        return True  # the standard library and third-party packages
    if name == "tongbao.simulators" or name.startswith("tongbao.simulators."):
        return True
    if any(name == kernel or name.startswith(kernel + ".") for kernel in KERNEL):
        return True
    # Only a channel's own simulator speaks its protocol; the shared base speaks none.
    parts = module.split(".")
    if len(parts) < 3 or parts[2] not in CHANNELS:
        return False
    protocol = f"tongbao.channels.{parts[2]}.protocol"
    return name == protocol or name.startswith(protocol + ".")


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    bad = []
    for line, target, taken in statements(source, module, is_package):
        # "from tongbao.channels.alipay import protocol" names a package to take an allowed module.
        if allowed(target, module) or (taken and all(allowed(name, module) for name in taken)):
            continue
        names = ", ".join(name for name in taken if not allowed(name, module)) or target
        bad.append(f"{module}:{line} imports {names}")
    return bad


def simulator_modules() -> list[Path]:
    return sorted(SIMULATORS.rglob("*.py"))


def test_the_walk_sees_every_simulator_module() -> None:
    names = {module_name(path) for path in simulator_modules()}
    for channel in CHANNELS:
        assert f"tongbao.simulators.{channel}.gateway" in names
    assert "tongbao.simulators.base.lifecycle" in names
    assert "tongbao.simulators.faults" in names


def test_simulators_import_only_their_protocol_and_the_shared_kernel() -> None:
    bad = [
        problem
        for path in simulator_modules()
        for problem in violations(path.read_text(), module_name(path), path.name == "__init__.py")
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from tongbao.payments import service", "tongbao.simulators.wechatpay.state"),
        ("import tongbao.db", "tongbao.simulators.base.app"),
        ("from tongbao.channels.wechatpay import adapter", "tongbao.simulators.wechatpay.gateway"),
        (
            "from tongbao.channels.wechatpay.adapter import WeChatPayAdapter",
            "tongbao.simulators.wechatpay.gateway",
        ),
        ("from tongbao.channels import wechatpay", "tongbao.simulators.wechatpay.gateway"),
        ("from tongbao.channels.alipay import protocol", "tongbao.simulators.wechatpay.gateway"),
        ("from tongbao.channels.alipay import protocol", "tongbao.simulators.base.sending"),
        ("from tongbao.security import secretbox", "tongbao.simulators.unionpay.state"),
        ("from tongbao import settings", "tongbao.simulators.faults"),
        ("from ...db import session", "tongbao.simulators.alipay.state"),
        ("from ...channels.alipay import adapter", "tongbao.simulators.alipay.gateway"),
        ("def f():\n    from tongbao.notify import delivery\n", "tongbao.simulators.unionpay.notify"),
        (
            "if TYPE_CHECKING:\n    from tongbao.payments.domain import Payment\n",
            "tongbao.simulators.alipay.state",
        ),
    ],
)
def test_an_import_from_elsewhere_in_tongbao_is_caught(source: str, module: str) -> None:
    assert violations(source, module) != []


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from tongbao.channels.wechatpay import protocol", "tongbao.simulators.wechatpay.gateway"),
        ("from tongbao.channels.unionpay.protocol import VERSION", "tongbao.simulators.unionpay.state"),
        ("import tongbao.channels.alipay.protocol", "tongbao.simulators.alipay.notify"),
        ("from ...channels.alipay import protocol", "tongbao.simulators.alipay.gateway"),
        ("from tongbao.clock import Clock, SystemClock", "tongbao.simulators.base.lifecycle"),
        ("from tongbao.money import fen_to_yuan", "tongbao.simulators.base.pages"),
        ("from tongbao.security import samples, signing", "tongbao.simulators.wechatpay.state_platform"),
        ("from ..base.control import ControlError", "tongbao.simulators.unionpay.control"),
        ("from . import pages", "tongbao.simulators.alipay.gateway"),
        ("from .app import create_alipay_simulator", "tongbao.simulators.alipay.__init__"),
        ("import httpx\nfrom starlette.routing import Route", "tongbao.simulators.base.app"),
    ],
)
def test_the_protocol_the_kernel_and_the_simulators_themselves_are_allowed(source: str, module: str) -> None:
    is_package = module.endswith(".__init__")
    assert violations(source, module.removesuffix(".__init__"), is_package) == []
