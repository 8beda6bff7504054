"""Keeping secrets out of the logs, as a structlog processor.

Three nets, each catching what the others miss:

- fields whose name says they hold a secret (``app_secret``, ``token``, ``authorization``, …);
- text shaped like Tongbao's own secrets (``tbs_…`` app secrets, ``tbo_…`` operator tokens),
  bearer credentials and PEM private keys, wherever it appears (messages, tracebacks);
- the exact values this request has handled (its app secrets, its operator token), remembered
  with ``remember_secret`` for as long as the request runs, plus a few process-wide ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

REDACTED = "[redacted]"

_SECRET_NAME_PARTS = (
    "secret",
    "token",
    "password",
    "passwd",
    "private_key",
    "api_v3_key",
    "apiv3_key",
    "master_key",
    "authorization",
    "credential",
    "cookie",
)
_SECRET_SHAPES = re.compile(
    r"\btb[so]_[A-Za-z0-9_-]{8,}"  # app secrets and operator tokens
    r"|(?i:bearer)\s+[^\s'\",;]+"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_SHORTEST_REMEMBERED = 8  # shorter values would blank out ordinary words

_request_secrets: ContextVar[set[str] | None] = ContextVar("tongbao_request_secrets", default=None)
_process_secrets: set[str] = set()


@contextmanager
def request_secrets() -> Iterator[None]:
    """The span of one request: values remembered inside it are forgotten when it ends."""
    token = _request_secrets.set(set())
    try:
        yield
    finally:
        _request_secrets.reset(token)


def remember_secret(value: str | None) -> None:
    """Keeps ``value`` out of whatever this request logs (outside a request: does nothing)."""
    known = _request_secrets.get()
    if known is not None and value and len(value) >= _SHORTEST_REMEMBERED:
        known.add(value)


def remember_process_secret(value: str | None) -> None:
    """For the few secrets the process holds from start to end (the master key)."""
    if value and len(value) >= _SHORTEST_REMEMBERED:
        _process_secrets.add(value)


def is_secret_name(name: str) -> bool:
    lowered = name.lower().replace("-", "_")
    return any(part in lowered for part in _SECRET_NAME_PARTS)


def scrub(text: str, known: list[str]) -> str:
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return _SECRET_SHAPES.sub(_shape_replacement, text)


def _shape_replacement(match: re.Match[str]) -> str:
    found = match.group(0)
    if found[:6].lower() == "bearer":
        return f"{found.split()[0]} {REDACTED}"
    return REDACTED


def _clean(value: Any, known: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, known)
    if isinstance(value, dict):
        return {k: _clean_field(k, v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v, known) for v in value)
    return value


def _clean_field(name: Any, value: Any, known: list[str]) -> Any:
    if isinstance(name, str) and is_secret_name(name) and value not in (None, "", True, False):
        return REDACTED
    return _clean(value, known)


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The processor: put it after exceptions are rendered to text, before the renderer."""
    known = sorted(_process_secrets | (_request_secrets.get() or set()), key=len, reverse=True)
    for name, value in list(event_dict.items()):
        event_dict[name] = _clean_field(name, value, known)
    return event_dict
