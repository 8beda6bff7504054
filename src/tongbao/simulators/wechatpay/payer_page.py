"""The payer's page: a small self-contained HTML page to open an order and pay it (no external assets)."""

from __future__ import annotations

from html import escape
from typing import Final

from .models import Order

_STYLE: Final = """
body { font-family: system-ui, sans-serif; background: #f2f2f2; margin: 0; padding: 2rem 1rem; }
main { max-width: 26rem; margin: auto; background: #fff; border-radius: 8px; padding: 1.5rem; }
h1 { font-size: 1.1rem; color: #07c160; margin-top: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .4rem 1rem; }
dt { color: #888; } dd { margin: 0; word-break: break-all; }
.amount { font-size: 2rem; text-align: center; margin: 1rem 0; }
button { width: 100%; padding: .8rem; border: 0; border-radius: 6px; background: #07c160; color: #fff;
         font-size: 1rem; cursor: pointer; }
input[type=text] { width: 100%; box-sizing: border-box; padding: .6rem; margin-bottom: .8rem; }
.error { color: #c00; } .paid { color: #07c160; font-size: 1.4rem; text-align: center; }
"""


def yuan(fen: int) -> str:
    """Integer fen as yuan text, without floats: 12345 -> "123.45", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def _page(title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>WeChat Pay simulator · {escape(title)}</h1>{content}</main></body></html>"
    )


def _details(order: Order) -> str:
    rows = [
        ("Merchant", f"{order.mchid} ({order.appid})"),
        ("Description", order.description),
        ("Order", order.out_trade_no),
        ("Type", order.trade_type),
        ("State", f"{order.trade_state} {order.trade_state_desc}"),
    ]
    if order.transaction_id:
        rows.append(("Transaction", order.transaction_id))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<p class="amount">¥{yuan(order.total)}</p><dl>{items}</dl>'


def order_page(order: Order, prefix: str, error: str | None = None) -> str:
    """An order with its Pay button; the form posts the order's own selector back."""
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    form = (
        f'<form method="post" action="{escape(prefix)}/_control/payer/pay">'
        f'<input type="hidden" name="prepay_id" value="{escape(order.prepay_id)}">'
        '<button type="submit">Pay</button></form>'
    )
    return _page("Pay", notice + _details(order) + form)


def paid_page(order: Order) -> str:
    return _page("Paid", '<p class="paid">Paid</p>' + _details(order))


def lookup_page(prefix: str, error: str | None = None) -> str:
    """No order chosen yet: paste the code URL a merchant displayed as a QR code."""
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    form = (
        f'<form method="get" action="{escape(prefix)}/_control/payer">'
        '<label for="code_url">Code URL (weixin://wxpay/bizpayurl?pr=…)</label>'
        '<input type="text" id="code_url" name="code_url" required>'
        '<button type="submit">Open</button></form>'
    )
    return _page("Scan", notice + form)


def error_page(message: str, prefix: str) -> str:
    return _page(
        "Error",
        f'<p class="error">{escape(message)}</p><p><a href="{escape(prefix)}/_control/payer">Back</a></p>',
    )
