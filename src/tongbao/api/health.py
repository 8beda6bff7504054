"""``GET /healthz``: unauthenticated liveness and database reachability."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from tongbao import __version__
from tongbao.api.deps import ContainerDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    version: str


@router.get(
    "/healthz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database cannot be reached"}},
)
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
