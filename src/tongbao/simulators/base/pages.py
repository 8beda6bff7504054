"""The payer pages' skeleton: one small self-contained HTML layout (no external assets) that each
simulator fills with its own name, colours and content."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from tongbao.money import fen_to_yuan

_STYLE = """
body {{ font-family: system-ui, sans-serif; background: {background}; margin: 0; padding: 2rem 1rem; }}
main {{ max-width: 26rem; margin: auto; background: #fff; border-radius: 8px; padding: 1.5rem; }}
h1 {{ font-size: 1.1rem; color: {accent}; margin-top: 0; }}
dl {{ display: grid; grid-template-columns: auto 1fr; gap: .4rem 1rem; }}
dt {{ color: #888; }} dd {{ margin: 0; word-break: break-all; }}
.amount {{ font-size: 2rem; text-align: center; margin: 1rem 0; }}
button {{ width: 100%; padding: .8rem; border: 0; border-radius: 6px; background: {accent}; color: #fff;
         font-size: 1rem; cursor: pointer; }}
input[type=text] {{ width: 100%; box-sizing: border-box; padding: .6rem; margin-bottom: .8rem; }}
.error {{ color: #c00; }} .paid {{ color: {paid}; font-size: 1.4rem; text-align: center; }}
{extra}"""


@dataclass(frozen=True)
class Theme:
    """How one simulator's pages look: the name in every heading and the channel's colours."""

    name: str
    accent: str
    background: str = "#f2f2f2"
    paid: str | None = None  # the "Paid" notice; the accent colour unless given
    extra_css: str = ""

    def style(self) -> str:
        return _STYLE.format(
            background=self.background,
            accent=self.accent,
            paid=self.paid or self.accent,
            extra=self.extra_css,
        )


def page(theme: Theme, title: str, content: str, onload: str = "") -> str:
    """A whole page; ``onload`` is the body's attribute text, if any (`` onload="…"``)."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{theme.style()}</style></head>"
        f"<body{onload}><main><h1>{escape(theme.name)} · {escape(title)}</h1>{content}</main>"
        "</body></html>"
    )


def notice(error: str | None) -> str:
    return f'<p class="error">{escape(error)}</p>' if error else ""


def details(amount_fen: int, rows: Sequence[tuple[str, str]]) -> str:
    """The amount in large type, then the order's fields as a list of names and values."""
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<p class="amount">¥{fen_to_yuan(amount_fen)}</p><dl>{items}</dl>'


def hidden(fields: Mapping[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())


def pay_form(prefix: str, selector: Mapping[str, str]) -> str:
    """The Pay button; the form posts the order's own selector back to the payer page."""
    return (
        f'<form method="post" action="{escape(prefix)}/_control/payer/pay">{hidden(selector)}'
        '<button type="submit">Pay</button></form>'
    )


def lookup_form(prefix: str, name: str, label: str) -> str:
    """No order chosen yet: a field for what the merchant displayed as a QR code."""
    return (
        f'<form method="get" action="{escape(prefix)}/_control/payer">'
        f'<label for="{escape(name)}">{escape(label)}</label>'
        f'<input type="text" id="{escape(name)}" name="{escape(name)}" required>'
        '<button type="submit">Open</button></form>'
    )


def back_link(prefix: str) -> str:
    return f'<p><a href="{escape(prefix)}/_control/payer">Back</a></p>'
