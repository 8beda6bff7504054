"""The gateway's routes: ``frontTransReq.do`` (the payer's browser posts the merchant's signed form),
``backTransReq.do`` (the merchant's server asks for a refund) and ``queryTrans.do`` (the merchant's
server asks); the payer's Pay button is in ``pages``.

Faults from the plan apply per endpoint name: "create" (the front transaction), "refund" (the back
transaction), "query" and "refund_query" (a query naming a refund the simulator holds).
``error_5xx`` answers HTTP 500 having done nothing; ``system_error`` does the work and then answers
respCode 03 (a refund or a query) or a 500 page (a front transaction); ``timeout`` stalls the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from tongbao.channels.unionpay import protocol

from ..applying import apply_faults
from ..base.wire import mount_prefix
from ..faults import FaultKind, Faults
from . import pages
from .gateway_errors import GatewayError
from .state import UnionPaySimulator

T = TypeVar("T")


class ServerFault(Exception):
    """The fault plan says: answer HTTP 500."""


async def _read_form(request: Request) -> dict[str, str]:
    try:
        return protocol.parse_form(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise GatewayError("30", "报文格式错误") from exc


async def _apply(sim: UnionPaySimulator, request: Request, faults: Faults, work: Callable[[], T]) -> T:
    return await apply_faults(sim, request, faults, work, ServerFault)


async def _front(sim: UnionPaySimulator, request: Request) -> Response:
    """The payer's browser posts the signed order form; the answer is the payer's page."""
    try:
        form = await _read_form(request)
        faults = sim.faults.next("create")
        order = await _apply(sim, request, faults, lambda: sim.front_transaction(form))
    except GatewayError as exc:
        return HTMLResponse(pages.error_page(exc.resp_code, exc.resp_msg), status_code=400)
    except ServerFault:
        return HTMLResponse(pages.error_page("03", "系统繁忙"), status_code=500)
    if faults.get(FaultKind.SYSTEM_ERROR) is not None:
        return HTMLResponse(pages.error_page("03", "交易通讯超时"), status_code=500)
    return HTMLResponse(pages.order_page(order, mount_prefix(request.scope)))


def gateway_routes(sim: UnionPaySimulator) -> list[Route]:
    async def front(request: Request) -> Response:
        return await _front(sim, request)

    async def back_end(
        request: Request,
        endpoint: Callable[[dict[str, str]], str],
        work: Callable[[dict[str, str], Faults], dict[str, str]],
    ) -> Response:
        """A server-to-server call: a signed ``k=v&…`` answer, whatever happened."""
        form: dict[str, str] = {}
        try:
            form = await _read_form(request)
            faults = sim.faults.next(endpoint(form))
            answer = await _apply(sim, request, faults, lambda: work(form, faults))
            if faults.get(FaultKind.SYSTEM_ERROR) is not None:
                answer = {**_echo(form), "respCode": "03", "respMsg": "交易通讯超时，请发起查询交易"}
        except GatewayError as exc:
            answer = {**_echo(form), "respCode": exc.resp_code, "respMsg": exc.resp_msg}
        except ServerFault:
            return PlainTextResponse("Internal Server Error", status_code=500)
        body = protocol.encode_answer(sim.identity.sign(answer))
        return PlainTextResponse(body, media_type="text/plain;charset=UTF-8")

    async def query(request: Request) -> Response:
        return await back_end(
            request, lambda form: "refund_query" if sim.names_refund(form) else "query", sim.query
        )

    async def refund(request: Request) -> Response:
        return await back_end(request, lambda form: "refund", sim.refund)

    return [
        Route(protocol.FRONT_PATH, front, methods=["POST"]),
        Route(protocol.BACK_PATH, refund, methods=["POST"]),
        Route(protocol.QUERY_PATH, query, methods=["POST"]),
    ]


def _echo(form: dict[str, str]) -> dict[str, str]:
    """A refused request's answer repeats who and what it was about."""
    names = ("version", "encoding", "txnType", "txnSubType", "bizType", "accessType", "merId", "orderId")
    return {name: form[name] for name in (*names, "txnTime") if form.get(name)}
