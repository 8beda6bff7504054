"""What every CLI command needs: settings (with ``--data-dir``), logging, a container, a loop."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO, TypeVar, cast

import structlog
import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.tracebacks import ExceptionDictTransformer

from tongbao.bootstrap import build_container
from tongbao.cli.log_writer import BackgroundLogWriter
from tongbao.config import Settings
from tongbao.container import Container
from tongbao.db import migrate
from tongbao.db.engine import engine_for
from tongbao.security.master_key import MasterKey, MasterKeyMissing, load_master_key
from tongbao.security.redaction import redact_secrets, remember_process_secret
from tongbao.security.secretbox import MasterKeyInvalid

T = TypeVar("T")
console = Console()
err = Console(stderr=True)


def configure_logging(json_logs: bool = False, stream: TextIO | None = None) -> BackgroundLogWriter:
    """structlog to stderr (or ``stream``), one line per event, written off the event loop.

    Tracebacks are plain text (a dict in JSON) without local variables: locals hold decrypted
    secrets, and rendering them took seconds on the event loop. Secrets are redacted last.
    """
    global _writer
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if _writer is not None:
        _writer.close()
    _writer = BackgroundLogWriter(stream)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    processors: list[structlog.typing.Processor]
    if json_logs:
        tracebacks = ExceptionDictTransformer(show_locals=False, use_rich=False)
        processors = [
            *shared,
            structlog.processors.ExceptionRenderer(tracebacks),
            redact_secrets,
            structlog.processors.JSONRenderer(),
        ]
    else:
        colors = (stream or sys.stderr).isatty()
        processors = [
            *shared,
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback),
        ]
    # PrintLogger only calls write() and flush(), which the writer has.
    output = cast(TextIO, _writer)
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(output))
    return _writer


_writer: BackgroundLogWriter | None = None


def load_settings(data_dir: Path | None = None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    configure_logging(settings.log_json)
    remember_process_secret(settings.master_key)
    return settings


def master_key(settings: Settings, *, demo: bool, production_server: bool = False) -> MasterKey:
    """The environment's key; else the data dir's demo key (made here only for the demo).

    A production server takes the key from the environment and nowhere else.
    """
    try:
        return load_master_key(settings, allow_demo_file=not production_server, create_demo_file=demo)
    except (MasterKeyMissing, MasterKeyInvalid) as exc:
        err.print(f"[bold red]Refusing to start:[/] {exc}")
        raise typer.Exit(2) from exc


def require_schema_at_head(settings: Settings) -> None:
    async def check(engine: AsyncEngine) -> str | None:
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(check(engine_for(settings)))
    head = migrate.head_revision()
    if current != head:
        err.print(
            f"[bold red]The database is at revision {current or 'none'}, this Tongbao needs {head}.[/] "
            "Run `tongbao db upgrade` first."
        )
        raise typer.Exit(2)


def run_with_container(settings: Settings, key: MasterKey, work: Callable[[Container], Awaitable[T]]) -> T:
    async def go() -> T:
        container = build_container(settings, key)
        try:
            return await work(container)
        finally:
            await container.aclose()

    return asyncio.run(go())
