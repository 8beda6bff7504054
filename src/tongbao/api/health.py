"""``GET /healthz``: unauthenticated liveness and database reachability."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tongbao import __version__
from tongbao.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(c: ContainerDep) -> JSONResponse:
    try:
        async with c.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - health answers, it does not raise
        database = "unreachable"
    healthy = database == "ok"
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "version": __version__},
        status_code=200 if healthy else 503,
    )
