"""The cashier page ``/pay/{payment_id}``: the payer sees what they pay and picks how.

Served without merchant signatures (payers have none); a payment id is an unguessable ULID.
Native QR codes are drawn on the server (segno, SVG), so the page needs no script from elsewhere.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from string import Template
from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Body
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from tongbao.api.deps import ContainerDep
from tongbao.channels.kinds import Method
from tongbao.merchants.models import ChannelAccount, Merchant
from tongbao.money import fen_to_yuan
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import PaymentAttempt
from tongbao.payments.service import PaymentService
from tongbao.payments.store import load_payment

router = APIRouter(prefix="/pay", tags=["cashier"], include_in_schema=False)
PAGE = Template(files("tongbao.console").joinpath("cashier_page.html").read_text(encoding="utf-8"))

# Methods a payer can finish from a browser page (JSAPI, APP and barcode need a wallet, an app or
# a till), in the order the cashier lists them.
CASHIER_METHODS = {
    Method.WECHAT_NATIVE: "微信扫码支付 · WeChat Pay (scan)",
    Method.WECHAT_H5: "微信 H5 支付 · WeChat Pay (mobile)",
    Method.ALIPAY_QR: "支付宝扫码 · Alipay (scan)",
    Method.ALIPAY_PAGE: "支付宝网页支付 · Alipay (web)",
    Method.ALIPAY_WAP: "支付宝手机网站支付 · Alipay (mobile)",
    Method.UNIONPAY_WEB: "银联网关支付 · UnionPay (web)",
    Method.UNIONPAY_WAP: "银联手机支付 · UnionPay (mobile)",
}
# The payer-facing artefact of a QR action, and the simulator payer page's name for it.
QR_FIELDS = ("code_url", "qr_code")
STATUS_TEXT = {
    PaymentStatus.PENDING: "等待支付 · Waiting for payment",
    PaymentStatus.SUCCEEDED: "支付成功 · Paid",
    PaymentStatus.CLOSED: "已关闭 · Closed",
    PaymentStatus.FAILED: "支付失败 · Failed",
}


class AttemptBody(BaseModel):
    method: str


def simulator_root(base_url: str) -> str:
    """The simulator behind an account's base URL (Alipay's base URL names its gateway.do)."""
    return base_url.removesuffix("/gateway.do")


def qr_svg(data: str) -> str:
    # No fixed size, so the page scales it (a viewBox is written instead).
    return str(segno.make(data, error="m").svg_inline(border=2, omitsize=True))


@router.get("/{payment_id}", response_class=HTMLResponse)
async def cashier_page(c: ContainerDep, payment_id: str) -> HTMLResponse:
    async with c.uow() as tx:
        payment = await load_payment(tx, payment_id)
        merchant = await tx.get(Merchant, payment.merchant_id)
    assert merchant is not None
    offered = [
        m for m in CASHIER_METHODS if m.value in merchant.enabled_methods and c.channels.supports(m.channel)
    ]
    if payment.method is not None:
        offered = []  # the merchant chose; the cashier only shows the outcome
    buttons = "".join(
        f'<button data-method="{m.value}">{escape(CASHIER_METHODS[m])}</button>' for m in offered
    )
    status = PaymentStatus(payment.status)
    back = ""
    if payment.return_url:
        back = f'<a href="{escape(payment.return_url)}">返回商户 · Back to the shop</a>'
    html = PAGE.substitute(
        merchant=escape(merchant.name),
        amount=escape(fen_to_yuan(payment.amount)),
        subject=escape(payment.subject),
        buttons=buttons if status is PaymentStatus.PENDING else "",
        status=status.value,
        status_text=escape(STATUS_TEXT.get(status, status.value)),
        back=back,
        payment_id=escape(payment.id),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/{payment_id}/status")
async def cashier_status(c: ContainerDep, payment_id: str) -> dict[str, Any]:
    async with c.uow() as tx:
        payment = await load_payment(tx, payment_id)
    return {"id": payment.id, "status": payment.status, "return_url": payment.return_url}


@router.post("/{payment_id}/attempts")
async def cashier_attempt(
    c: ContainerDep, payment_id: str, body: Annotated[AttemptBody, Body()]
) -> dict[str, Any]:
    started = await PaymentService(c).start_attempt(payment_id, body.method)
    action = started["action"] or {}
    answer: dict[str, Any] = {"attempt_id": started["attempt_id"], "status": started["status"], "error": None}
    if action.get("type") == "qr_code":
        field = next(name for name in QR_FIELDS if name in action)
        answer["qr_svg"] = qr_svg(action[field])
        answer["code_url"] = action[field]
        if c.settings.demo_payer_links:
            async with c.uow() as tx:
                attempt = await tx.get(PaymentAttempt, started["attempt_id"])
                assert attempt is not None
                account = await tx.get(ChannelAccount, attempt.channel_account_id)
            assert account is not None
            answer["payer_url"] = (
                f"{simulator_root(account.base_url)}/_control/payer?{field}={quote(action[field], safe='')}"
            )
    elif action.get("type") == "redirect":
        answer["redirect_url"] = action["url"]
    elif action.get("type") == "form_post":
        answer["form"] = {"url": action["url"], "fields": action["fields"]}
    elif not action:
        answer["error"] = "the channel did not answer in time; try again in a moment"
    return answer
