"""The gateway's pages for the payer: the order with a Pay button, the hand-back to the merchant
(an auto-submitting form to ``frontUrl``), and error pages. Self-contained HTML, no external assets."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Final

from tongbao.money import fen_to_yuan

from .models import Order

_STYLE: Final = """
body { font-family: system-ui, sans-serif; background: #f2f2f2; margin: 0; padding: 2rem 1rem; }
main { max-width: 26rem; margin: auto; background: #fff; border-radius: 8px; padding: 1.5rem; }
h1 { font-size: 1.1rem; color: #d7000f; margin-top: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .4rem 1rem; }
dt { color: #888; } dd { margin: 0; word-break: break-all; }
.amount { font-size: 2rem; text-align: center; margin: 1rem 0; }
button { width: 100%; padding: .8rem; border: 0; border-radius: 6px; background: #d7000f; color: #fff;
         font-size: 1rem; cursor: pointer; margin-top: .5rem; }
.error { color: #c00; } .paid { color: #07a; font-size: 1.4rem; text-align: center; }
"""


def _page(title: str, content: str, onload: str = "") -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body{onload}><main><h1>UnionPay gateway simulator · {escape(title)}</h1>{content}</main>"
        "</body></html>"
    )


def _details(order: Order) -> str:
    rows = [
        ("Merchant", order.mer_id),
        ("Order", order.order_id),
        ("Sent", order.txn_time),
        ("State", order.state),
    ]
    if order.query_id:
        rows.append(("Query id", order.query_id))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    amount = order.paid_amount if order.paid_amount is not None else order.txn_amt
    return f'<p class="amount">¥{fen_to_yuan(amount)}</p><dl>{items}</dl>'


def order_page(order: Order, prefix: str, error: str | None = None) -> str:
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    form = (
        f'<form method="post" action="{escape(prefix)}/_control/payer/pay">'
        f'<input type="hidden" name="token" value="{escape(order.token)}">'
        '<button type="submit">Pay</button></form>'
    )
    return _page("Pay", notice + _details(order) + form)


def return_page(order: Order, fields: Mapping[str, str]) -> str:
    """Paid: the browser posts the signed result to the merchant's frontUrl at once."""
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    form = (
        f'<form id="return" method="post" action="{escape(order.front_url)}">{inputs}'
        '<button type="submit">Return to the merchant</button></form>'
    )
    body = '<p class="paid">Paid</p>' + _details(order) + form
    return _page("Paid", body, " onload=\"document.getElementById('return').submit()\"")


def error_page(resp_code: str, resp_msg: str) -> str:
    content = (
        f'<p class="error">respCode={escape(resp_code)}</p>'
        f'<p class="error" id="respMsg">{escape(resp_msg)}</p>'
    )
    return _page("Error", content)
