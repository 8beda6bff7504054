"""Tongbao's own commands as child processes: started, awaited, killed, started again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

TONGBAO = (sys.executable, "-m", "tongbao.cli")


class ChildFailed(RuntimeError):
    """A child exited or never became ready; the message ends with its log's last lines."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """One ``tongbao …`` command in its own process group, so a kill reaches its workers too."""

    def __init__(
        self, name: str, args: Sequence[str], env: Mapping[str, str], log_path: Path, ready_url: str
    ) -> None:
        self.name = name
        self.args = [*TONGBAO, *args]
        self.env = dict(env)
        self.log_path = log_path
        self.ready_url = ready_url
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def cpu_seconds(self) -> float | None:
        """CPU used so far by the process and its children (its workers)."""
        return group_cpu_seconds(self._proc.pid) if self.alive and self._proc is not None else None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}: {' '.join(self.args[2:])}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(  # noqa: S603 - our own command, our own arguments
                self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(self.ready_url, timeout=1.0).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if not self.alive:
                raise ChildFailed(f"{self.name} exited before it was ready{self.tail()}")
            if time.monotonic() > deadline:
                raise ChildFailed(f"{self.name} was not ready within {timeout_s:.0f} s{self.tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a crash or the OOM killer does."""
        self._signal(signal.SIGKILL)
        if self._proc is not None:
            self._proc.wait()

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM and a graceful exit, else SIGKILL."""
        if not self.alive or self._proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, sig)
            except ProcessLookupError:
                pass

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return ""
        return "; its log ends:\n" + "\n".join(text) if text else ""


def group_cpu_seconds(pgid: int) -> float | None:
    """User plus system CPU of every live process in a process group (Linux ``/proc``), else None."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces: the fields after its closing parenthesis are fixed.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # field 5, the process group
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return total / ticks


class NamedCpu:
    """CPU used since it was made by the processes named ``command`` (the database server's), as
    a counter that only grows: processes that exit between two readings take nothing away."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._last = self._read() or {}
        self._total = 0.0

    def _read(self) -> dict[int, float] | None:
        proc = Path("/proc")
        if not proc.is_dir():
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
            except (OSError, ValueError, IndexError):
                continue
            if name == self.command:
                fields = rest.split()
                found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
        return found

    def __call__(self) -> float | None:
        now = self._read()
        if now is None:
            return None
        self._total += sum(max(0.0, cpu - self._last.get(pid, 0.0)) for pid, cpu in now.items())
        self._last = now
        return self._total
