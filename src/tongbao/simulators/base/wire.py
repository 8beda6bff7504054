"""HTTP details every simulator needs when it is mounted inside another app."""

from __future__ import annotations

from starlette.types import Scope


def channel_path(scope: Scope) -> str:
    """The request target as the real channel would see it: the path below any mount prefix, then
    ``?query`` exactly as sent. Signatures cover this, so a mounted simulator behaves as at the root."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    # Starlette keeps the full path under a mount and names the prefix in root_path.
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) :][:1] in ("/", ""):
        path = path[len(root) :] or "/"
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def mount_prefix(scope: Scope) -> str:
    """The prefix the simulator is mounted under ("" at the root), for links it hands out."""
    return str(scope.get("root_path", "")).rstrip("/")
