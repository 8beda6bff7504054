"""``tongbao serve --workers 2`` as an operator runs it: one port, two API processes, one PostgreSQL.

Which process answered is read from the kernel (tests/support/processes.py): each probe is a
keep-alive connection whose server side one of the processes holds, found by its /healthz, and the
signed calls that follow go down the same connection to that process.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tongbao.client import TongbaoClient, encode_json
from tongbao.security.secretbox import generate_master_key

from ..support.databases import backends, throwaway_database
from ..support.demo_server import TONGBAO, cli_env, free_port
from ..support.factories import create_app, create_merchant, error_of, ok
from ..support.processes import alive, answering_process, listening_processes

START_TIMEOUT_S = 60
PROBES = 200  # connections opened at most to meet every process


@dataclass
class Served:
    server: subprocess.Popen[bytes]
    base_url: str
    port: int
    processes: list[int]
    admin_token: str


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*TONGBAO, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def serve_workers(workdir: Path, workers: int) -> Iterator[Served]:
    with throwaway_database("postgres", workdir) as url:
        env = {**cli_env(workdir / "data", url), "TONGBAO_MASTER_KEY": generate_master_key()}
        _cli(env, "db", "upgrade")
        admin_token = _cli(env, "operator", "create", "ops").strip().splitlines()[-1]
        port = free_port()
        log_path = workdir / "serve.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [*TONGBAO, "serve", "--workers", str(workers), "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                processes = _wait_until_serving(server, port, workers, log_path)
                yield Served(server, f"http://127.0.0.1:{port}", port, processes, admin_token)
            finally:
                if server.poll() is None:
                    server.kill()
                    server.wait(timeout=20)


def _wait_until_serving(server: subprocess.Popen[bytes], port: int, workers: int, log: Path) -> list[int]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        processes = listening_processes(server.pid, port)
        # Every process listens on the socket the supervisor passed it, before its app is ready.
        if len(processes) == workers and log.read_text().count("Application startup complete") == workers:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return processes
            except httpx.TransportError:
                pass
        time.sleep(0.2)


def connections_to_each(served: Served) -> dict[int, httpx.Client]:
    """One open keep-alive connection to every API process, by its pid."""
    found: dict[int, httpx.Client] = {}
    for _ in range(PROBES):
        http = httpx.Client(base_url=served.base_url, limits=httpx.Limits(max_connections=1), timeout=10)
        probe = http.get("/healthz")
        assert probe.status_code == 200
        client_addr = probe.extensions["network_stream"].get_extra_info("client_addr")
        pid = answering_process(served.processes, served.port, client_addr)
        if pid is not None and pid not in found:
            found[pid] = http
            if len(found) == len(served.processes):
                return found
        else:
            http.close()
    raise AssertionError(f"{PROBES} connections reached only processes {sorted(found)}")


def signed(
    http: httpx.Client, method: str, path: str, *, auth: dict[str, str], body: bytes = b""
) -> httpx.Response:
    headers = {**auth, "Content-Type": "application/json"} if body else auth
    return http.request(method, path, content=body, headers=headers)


@pytest.mark.slow
@pytest.mark.skipif("postgres" not in backends(), reason="several API processes run on PostgreSQL only")
def test_two_processes_answer_one_port_share_nonces_and_stop_on_sigterm(tmp_path: Path) -> None:
    with serve_workers(tmp_path, workers=2) as served:
        admin = httpx.Client(
            base_url=served.base_url, headers={"Authorization": f"Bearer {served.admin_token}"}, timeout=30
        )
        merchant = create_merchant(admin)
        made = create_app(admin, merchant["id"])
        app = TongbaoClient(served.base_url, made["id"], made["secret"])
        by_pid = connections_to_each(served)
        first, second = sorted(by_pid)
        assert first != second

        # Both processes answer signed calls for the same app.
        for http in by_pid.values():
            me = signed(http, "GET", "/v1/me", auth=app.sign("GET", "/v1/me", b""))
            app.verify_response(me)
            assert ok(me)["merchant"]["id"] == merchant["id"]

        # A nonce spent at one process is spent at the other, in both directions.
        for used_at, replayed_at in ((first, second), (second, first)):
            auth = app.sign("GET", "/v1/me", b"")
            assert signed(by_pid[used_at], "GET", "/v1/me", auth=auth).status_code == 200
            replay = signed(by_pid[replayed_at], "GET", "/v1/me", auth=auth)
            assert error_of(replay, 401)["code"] == "replayed_request"

        # An Idempotency-Key answered by one process is answered the same by the other.
        body = encode_json({"order": "A-1"})
        key = {"Idempotency-Key": "workers-key-1"}
        original = signed(
            by_pid[first], "POST", "/v1/echo", auth={**app.sign("POST", "/v1/echo", body), **key}, body=body
        )
        retried = signed(
            by_pid[second], "POST", "/v1/echo", auth={**app.sign("POST", "/v1/echo", body), **key}, body=body
        )
        assert ok(retried) == ok(original)
        assert retried.headers["idempotent-replayed"] == "true"

        for http in by_pid.values():
            http.close()
        admin.close()
        served.server.send_signal(signal.SIGTERM)  # to the supervisor only
        assert served.server.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in served.processes):
            assert time.monotonic() < deadline, "an API process outlived its supervisor"
            time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.skipif("postgres" not in backends(), reason="several API processes run on PostgreSQL only")
def test_api_processes_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    """Nobody is left answering on the port, unsupervised, after a SIGKILL (or the OOM killer)."""
    with serve_workers(tmp_path, workers=2) as served:
        served.server.kill()
        served.server.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in served.processes):
            assert time.monotonic() < deadline, "an API process outlived its supervisor"
            time.sleep(0.1)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{served.base_url}/healthz", timeout=2)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo"], "--demo runs the worker and the channel simulators"),
        ([], "--workers above 1 needs PostgreSQL"),
    ],
)
def test_several_processes_are_refused_where_they_cannot_work(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """On the default SQLite file: the demo (in-process state) and SQLite (one writer) are one process."""
    env = {**cli_env(tmp_path / "data", None), "TONGBAO_MASTER_KEY": generate_master_key()}
    result = subprocess.run(
        [*TONGBAO, "serve", "--workers", "2", "--port", str(free_port()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in " ".join((result.stderr + result.stdout).split())
    assert not (tmp_path / "data" / "tongbao.db").exists()  # refused before touching anything
