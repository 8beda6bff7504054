"""``POST /v1/echo``: an integration check before taking payments.

It answers with what the server received and verified — the app, the JSON body, the
Idempotency-Key — so an integrator can prove body signing, response verification and idempotent
retries work end to end without moving money.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header
from pydantic import BaseModel

from tongbao.api.deps import CallerDep
from tongbao.ids import new_id

router = APIRouter(prefix="/v1", tags=["merchant API"])


class EchoPublic(BaseModel):
    id: str
    app_id: str
    merchant_id: str
    idempotency_key: str | None
    body: dict[str, Any]


@router.post("/echo", response_model=EchoPublic)
async def echo(
    caller: CallerDep,
    body: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> EchoPublic:
    # A fresh id per execution shows whether a retry was answered from the idempotency record.
    return EchoPublic(
        id=new_id("request"),
        app_id=caller.app.id,
        merchant_id=caller.merchant.id,
        idempotency_key=idempotency_key,
        body=body,
    )
