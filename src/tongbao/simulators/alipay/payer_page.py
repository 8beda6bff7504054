"""The payer's cashier: a small self-contained HTML page to open a trade and pay it (no external assets)."""

from __future__ import annotations

from html import escape
from typing import Final

from tongbao.money import fen_to_yuan

from .models import Trade

_STYLE: Final = """
body { font-family: system-ui, sans-serif; background: #f5f5f5; margin: 0; padding: 2rem 1rem; }
main { max-width: 26rem; margin: auto; background: #fff; border-radius: 8px; padding: 1.5rem; }
h1 { font-size: 1.1rem; color: #1677ff; margin-top: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .4rem 1rem; }
dt { color: #888; } dd { margin: 0; word-break: break-all; }
.amount { font-size: 2rem; text-align: center; margin: 1rem 0; }
button { width: 100%; padding: .8rem; border: 0; border-radius: 6px; background: #1677ff; color: #fff;
         font-size: 1rem; cursor: pointer; }
input[type=text] { width: 100%; box-sizing: border-box; padding: .6rem; margin-bottom: .8rem; }
.error { color: #c00; } .paid { color: #1677ff; font-size: 1.4rem; text-align: center; }
"""


def _page(title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>Alipay simulator · {escape(title)}</h1>{content}</main></body></html>"
    )


def _details(trade: Trade) -> str:
    rows = [
        ("App", trade.app_id),
        ("Subject", trade.subject),
        ("Order", trade.out_trade_no),
        ("Trade", trade.trade_no),
        ("Status", trade.status),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<p class="amount">¥{fen_to_yuan(trade.total)}</p><dl>{items}</dl>'


def trade_page(trade: Trade, prefix: str, error: str | None = None) -> str:
    """A trade with its Pay button; the form posts the trade's own selector back."""
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    form = (
        f'<form method="post" action="{escape(prefix)}/_control/payer/pay">'
        f'<input type="hidden" name="app_id" value="{escape(trade.app_id)}">'
        f'<input type="hidden" name="out_trade_no" value="{escape(trade.out_trade_no)}">'
        '<button type="submit">Pay</button></form>'
    )
    return _page("Pay", notice + _details(trade) + form)


def paid_page(trade: Trade) -> str:
    return _page("Paid", '<p class="paid">Paid</p>' + _details(trade))


def lookup_page(prefix: str, error: str | None = None) -> str:
    """No trade chosen yet: paste the qr_code a merchant displayed."""
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    form = (
        f'<form method="get" action="{escape(prefix)}/_control/payer">'
        '<label for="qr_code">QR code (https://qr.alipay.com/…)</label>'
        '<input type="text" id="qr_code" name="qr_code" required>'
        '<button type="submit">Open</button></form>'
    )
    return _page("Scan", notice + form)


def error_page(message: str, prefix: str) -> str:
    return _page(
        "Error",
        f'<p class="error">{escape(message)}</p><p><a href="{escape(prefix)}/_control/payer">Back</a></p>',
    )
