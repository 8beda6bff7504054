"""Async engine construction for the embedded SQLite default and for PostgreSQL.

On SQLite a transaction begins deferred: it reads from a snapshot and takes nothing that others wait
for. It takes the database's write lock at its first write or row lock (``SELECT ... FOR UPDATE``,
which SQLite has no syntax for), the point where PostgreSQL would take a row lock, so that on both
databases what a transaction reads before its first lock is unprotected and the locks alone keep
concurrent writers apart (see ``_become_writer``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from tongbao.config import Settings
from tongbao.db.uow import EventedSession

# Statements that never write; anything else (INSERT, UPDATE, DELETE, SAVEPOINT, WITH, DDL) is
# treated as a write, which at worst takes the write lock a little early.
_READS: Final = ("SELECT", "PRAGMA", "EXPLAIN")
_WRITING: Final = "tongbao_writing"  # in the connection's info: None outside a transaction


@dataclass(frozen=True)
class PoolOptions:
    """One process's pool of PostgreSQL connections (``Settings.db_*``)."""

    size: int = 10
    max_overflow: int = 10
    timeout_s: float = 30.0
    statement_cache: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolOptions:
        return cls(
            size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            timeout_s=settings.db_pool_timeout_s,
            statement_cache=settings.db_statement_cache,
        )


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine of one process, with the pool its settings ask for.

    On SQLite the process has one connection: SQLite lets one writer in at a time anyway, and a
    writer that finds the lock taken waits in SQLite's busy handler, which sleeps in growing steps
    and wakes late (p99 of a creation at 8 clients: 1.9 s). Queued for the one connection instead,
    transactions follow each other at once and in order (p99 0.33 s, the same throughput). No unit
    of work opens a second transaction while it holds one, which this relies on.
    """
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        return make_engine(url, single_connection=True)
    return make_engine(url, PoolOptions.from_settings(settings))


def make_engine(url: str, pool: PoolOptions | None = None, *, single_connection: bool = False) -> AsyncEngine:
    pool = pool or PoolOptions()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        if single_connection:
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=pool.timeout_s)
    if url.startswith("postgresql"):
        kwargs.update(
            pool_size=pool.size,
            max_overflow=pool.max_overflow,
            pool_timeout=pool.timeout_s,
            # A connection older than this is replaced at checkout: servers and proxies drop idle ones.
            pool_recycle=1800,
        )
        if not pool.statement_cache:
            kwargs["connect_args"] = _without_statement_cache()
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _tune_sqlite(engine)
    else:
        _check_at_checkout(engine)
    return engine


def _check_at_checkout(engine: AsyncEngine) -> None:
    """A pooled connection the server closed (a restart, a terminated backend) is replaced before
    use, without a round trip: asyncpg notices the closed socket by itself. SQLAlchemy's
    ``pool_pre_ping`` would send BEGIN, a ping and ROLLBACK at every checkout, three round trips
    per transaction. A connection that breaks silently fails its first statement, and the pool
    then replaces every connection of that generation."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        driver = record.driver_connection
        if driver is not None and driver.is_closed():
            raise DisconnectionError("the server closed this pooled connection")


def _without_statement_cache() -> dict[str, Any]:
    """asyncpg's and SQLAlchemy's statement caches off, and every statement named afresh.

    Behind PgBouncer in transaction mode, consecutive transactions of one connection may run on
    different server connections, where a cached statement does not exist, or where another
    client's statement already holds asyncpg's next sequential name.
    """
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _statement_name,
    }


def _statement_name() -> str:
    return f"__tongbao_{uuid.uuid4().hex}__"


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so BEGIN below is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        _raw(conn, "BEGIN")
        conn.info[_WRITING] = False

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(conn: Connection) -> None:
        conn.info[_WRITING] = None

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(
        conn: Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if conn.info.get(_WRITING) is False and _takes_write_lock(statement, context):
            _become_writer(conn)


def _become_writer(conn: Connection) -> None:
    """Ends the transaction and begins it again IMMEDIATE, just before its first write.

    A deferred SQLite transaction that has read holds a snapshot, and a snapshot cannot become a
    writer while another connection writes: SQLite answers SQLITE_BUSY at once rather than wait
    (the snapshot would be stale by then). Nothing has been written yet, so nothing is lost by
    beginning again; BEGIN IMMEDIATE waits on busy_timeout for the write lock, and what is read
    after it is the newest data, as after a row lock on PostgreSQL. Rows the caller read before are
    as old as they would be there too: its locks reload the ones that matter.
    """
    _raw(conn, "ROLLBACK")
    _raw(conn, "BEGIN IMMEDIATE")
    conn.info[_WRITING] = True


def _takes_write_lock(statement: str, context: ExecutionContext | None) -> bool:
    if not statement.lstrip()[:7].upper().startswith(_READS):
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


def _raw(conn: Connection, sql: str) -> None:
    """Runs ``sql`` on the driver's connection, past SQLAlchemy's events (so past ``_before``)."""
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(sql)
    finally:
        cur.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=EventedSession, expire_on_commit=False, autoflush=False)
