"""Settings, read once from the environment (prefix ``TONGBAO_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAO_", extra="ignore")

    # Where the embedded database, the demo master key and demo.json live.
    data_dir: Path = Path(".tongbao")
    # Empty means the embedded SQLite file ``<data_dir>/tongbao.db``.
    database_url: str = ""
    # 32 bytes, urlsafe base64. Required outside the demo.
    master_key: str = ""

    # PostgreSQL connections, per process (SQLite keeps SQLAlchemy's defaults): each API and worker
    # process holds up to db_pool_size + db_max_overflow, so the database sees at most that times
    # the number of processes (docs/operations.md). A request waits db_pool_timeout_s for a free
    # connection, then fails.
    db_pool_size: int = Field(default=10, ge=1, le=100)
    db_max_overflow: int = Field(default=10, ge=0, le=100)
    db_pool_timeout_s: float = Field(default=30.0, gt=0, le=300)
    # Prepared statements kept per connection by the driver. Turn off behind a pooler that hands
    # one client's transactions to different server connections (PgBouncer in transaction mode
    # without max_prepared_statements): a statement prepared on one is unknown on the next.
    db_statement_cache: bool = True

    # Merchant API request signing.
    signature_window_s: int = Field(default=300, ge=30, le=900)
    nonce_ttl_s: int = Field(default=900, ge=60, le=86_400)
    # How long a process keeps an authenticated app (its merchant, its live secrets) before reading
    # it again: disabling an app or suspending a merchant reaches every other process within it.
    caller_cache_s: float = Field(default=2.0, ge=0, le=60)
    idempotency_ttl_s: int = Field(default=86_400, ge=3_600, le=7 * 86_400)
    # A key whose first request has not answered after this long was left by a process that died
    # mid-request: the next faithful retry takes it over and runs. Longer than any request runs.
    idempotency_in_progress_s: int = Field(default=120, ge=5, le=3_600)
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)

    # Merchant onboarding documents.
    document_max_bytes: int = Field(default=5 * 1_048_576, ge=1_024)

    # App secret rotation: how long the old secret keeps working by default, and at most.
    secret_overlap_default_s: int = Field(default=86_400, ge=0)
    secret_overlap_max_s: int = Field(default=7 * 86_400, ge=0)

    # Where payers and channels reach this server (cashier links, channel callback URLs).
    # Empty: the address ``serve`` listens on.
    public_base_url: str = ""
    # The cashier links a QR code to the simulator's payer page (the embedded demo only).
    demo_payer_links: bool = False

    # Outbound calls: to the channels, and to merchants' notify URLs.
    channel_timeout_s: float = Field(default=10.0, gt=0, le=60)
    notify_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # At most this many deliveries run at once to one merchant endpoint from one worker process,
    # so a slow one holds only its own share of the worker (K workers: up to K times this).
    notify_per_endpoint: int = Field(default=4, ge=1, le=64)
    # How many past-due payments one expiry sweep queues (it runs every 30 s).
    # Idle workers LISTEN for jobs that fall due now (PostgreSQL). Turn off behind PgBouncer in
    # transaction mode, where a LISTEN does not stay on one server connection: workers then poll.
    job_listen: bool = True
    expiry_sweep_batch: int = Field(default=200, ge=1, le=10_000)
    # How many times the janitor asks about one refund before it stops and operators are told
    # (hourly after the first quarter hour: about three weeks).
    refund_sync_max_attempts: int = Field(default=500, ge=1, le=100_000)
    # How long a worker holds a job it claimed: a worker that dies mid-job leaves it to the others
    # this long after the claim. A handler may run for three quarters of it.
    job_lease_s: float = Field(default=120.0, ge=10, le=3_600)
    # Jobs a worker process runs at once. Most wait on the network (a merchant's endpoint, a
    # channel), so the number is high: endpoints that hang hold at most NOTIFY_PER_ENDPOINT each,
    # and the rest stay free for the healthy ones.
    worker_concurrency: int = Field(default=64, ge=1, le=1_000)

    log_json: bool = False

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tongbao.db').resolve()}"
