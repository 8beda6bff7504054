"""The SQL one request really sends: every statement with its parameters, grouped in the
transactions they ran in, recorded from the engine's events while the real code path runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Statement:
    sql: str
    params: tuple[Any, ...]
    locks: bool  # a write or a row lock: on SQLite its transaction needs the write lock


@dataclass
class Transaction:
    statements: list[Statement] = field(default_factory=list)
    committed: bool = False


@dataclass
class Capture:
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def statement_count(self) -> int:
        return sum(len(t.statements) for t in self.transactions)

    @property
    def round_trips(self) -> int:
        """Statements plus each transaction's BEGIN and its COMMIT or ROLLBACK."""
        return self.statement_count + 2 * len(self.transactions)


def _locks(statement: str, context: Any) -> bool:
    if not statement.lstrip()[:7].upper().startswith(("SELECT", "PRAGMA")):
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


@contextmanager
def capturing(engine: AsyncEngine) -> Iterator[Capture]:
    """Records what ``engine`` runs until the block ends. Statements outside a transaction (none
    are expected) go into one of their own."""
    capture = Capture()
    sync = engine.sync_engine
    open_by_connection: dict[int, Transaction] = {}

    def begin(conn: Connection) -> None:
        transaction = Transaction()
        open_by_connection[id(conn)] = transaction
        capture.transactions.append(transaction)

    def end(committed: bool) -> Any:
        def listener(conn: Connection) -> None:
            transaction = open_by_connection.pop(id(conn), None)
            if transaction is not None:
                transaction.committed = committed

        return listener

    def execute(conn: Connection, _cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        transaction = open_by_connection.get(id(conn))
        if transaction is None:
            transaction = Transaction(committed=True)
            capture.transactions.append(transaction)
        rows = params if many else [params]
        for row in rows:
            transaction.statements.append(Statement(sql, tuple(row or ()), _locks(sql, context)))

    listeners = [
        ("begin", begin),
        ("commit", end(True)),
        ("rollback", end(False)),
        ("before_cursor_execute", execute),
    ]
    for name, fn in listeners:
        event.listen(sync, name, fn)
    try:
        yield capture
    finally:
        for name, fn in listeners:
            event.remove(sync, name, fn)
