"""``tongbao sim <channel>``: one channel simulator on its own port, optionally with faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from tongbao.cli.runtime import console, err
from tongbao.simulators.alipay import create_alipay_simulator
from tongbao.simulators.faults import FaultPlan, FaultPlanError
from tongbao.simulators.unionpay import create_unionpay_simulator
from tongbao.simulators.wechatpay.app import create_wechatpay_simulator

FACTORIES = {
    "wechatpay": create_wechatpay_simulator,
    "alipay": create_alipay_simulator,
    "unionpay": create_unionpay_simulator,
}


def _plan(spec: str) -> FaultPlan:
    """A fault plan as JSON text or the path of a JSON file: {"seed": 7, "rules": [...]}."""
    # JSON text is taken as it is: asking the file system about a long one fails (name too long).
    try:
        text = spec if spec.lstrip().startswith("{") else Path(spec).read_text()
        return FaultPlan.from_json(json.loads(text))
    except (OSError, ValueError, FaultPlanError) as exc:
        err.print(f"[red]--faults: {exc}[/]")
        raise typer.Exit(2) from exc


def register(app: typer.Typer) -> None:
    @app.command()
    def sim(
        channel: Annotated[str, typer.Argument(help="wechatpay, alipay or unionpay")],
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 9101,
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        faults: Annotated[str | None, typer.Option(help="A fault plan: JSON text or a JSON file.")] = None,
    ) -> None:
        """Run one channel simulator standalone (its control API is under /_control)."""
        factory: Any = FACTORIES.get(channel)
        if factory is None:
            err.print(f"[red]unknown channel {channel!r}: choose one of {', '.join(FACTORIES)}[/]")
            raise typer.Exit(2)
        plan = _plan(faults) if faults else None
        simulator = factory()
        if plan is not None:
            simulator.state.simulator.faults.install(plan)
        console.print(f"{channel} simulator on http://{host}:{port}  (control API: /_control/…)")
        uvicorn.run(simulator, host=host, port=port, log_level="info")
