"""Every simulator has the same file roles, so that one reader finds the same thing in the same place
in all three: a role split in parts names its parts after itself (``gateway_refunds.py``)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import tongbao.simulators

SIMULATORS = Path(tongbao.simulators.__file__).parent
ROLES = ("app", "state", "gateway", "notify", "control", "pages")


@pytest.mark.parametrize("channel", ["wechatpay", "alipay", "unionpay"])
def test_a_simulator_has_each_role_and_nothing_besides(channel: str) -> None:
    # A role grown large may be a package of its own (gateway/), named like a module.
    folder = SIMULATORS / channel
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    packages = {path.parent.name for path in folder.glob("*/__init__.py")}
    names = modules | packages
    assert set(ROLES) <= names
    strays = [name for name in names if name not in ROLES and name.split("_")[0] not in ROLES]
    assert strays == []


def test_the_base_holds_what_the_three_share() -> None:
    for name in ("lifecycle", "app", "pages", "sending", "control", "wire"):
        importlib.import_module(f"tongbao.simulators.base.{name}")
