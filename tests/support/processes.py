"""Which process holds which TCP socket, read from Linux's /proc as ``ss -p`` does.

A server process says nothing about itself in its answers; the kernel knows which process holds
the socket of an accepted connection, so a test can tell which one answered without the server
printing its pid anywhere.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

_LISTEN = "0A"  # TCP state in /proc/net/tcp
_SOCKET_LINK = re.compile(r"socket:\[(\d+)\]")


def _hex_address(host: str, port: int) -> str:
    # /proc/net/tcp writes the IPv4 address as the host-order hex of its 32 bits.
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def _tcp_inodes(local: str, remote: str | None, state: str | None) -> set[int]:
    found: set[int] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and (remote is None or fields[2] == remote) and (state in (None, fields[3])):
            found.add(int(fields[9]))
    return found


def socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, PermissionError):
        return inodes
    for entry in entries:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{entry}")
        except OSError:
            continue
        if match := _SOCKET_LINK.fullmatch(link):
            inodes.add(int(match.group(1)))
    return inodes


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def listening_processes(parent: int, port: int) -> list[int]:
    """The children of ``parent`` that hold the socket listening on 127.0.0.1:``port``."""
    listening = _tcp_inodes(_hex_address("127.0.0.1", port), None, _LISTEN)
    return sorted(pid for pid in children(parent) if socket_inodes(pid) & listening)


def answering_process(candidates: list[int], server_port: int, client: tuple[str, int]) -> int | None:
    """Which of ``candidates`` holds the server side of the connection from ``client``."""
    accepted = _tcp_inodes(_hex_address("127.0.0.1", server_port), _hex_address(*client), None)
    owners = [pid for pid in candidates if socket_inodes(pid) & accepted]
    return owners[0] if len(owners) == 1 else None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
