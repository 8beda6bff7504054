"""A WeChat Pay v3 transaction (the query's answer, or a payment callback's resource) read as an
``OrderStatus``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tongbao.channels.base import ChannelUnknownOutcome, OrderState, OrderStatus
from tongbao.channels.wechatpay import protocol

TRADE_STATES: Final = {
    "SUCCESS": OrderState.SUCCEEDED,
    "REFUND": OrderState.SUCCEEDED,  # paid, then (partly) refunded: the capture happened
    "NOTPAY": OrderState.NOT_PAID,
    "USERPAYING": OrderState.PAYING,
    "CLOSED": OrderState.CLOSED,
    "REVOKED": OrderState.CLOSED,
    "PAYERROR": OrderState.FAILED,
}


def read_transaction(tx: Mapping[str, Any], order_no: str, *, mchid: str, appid: str) -> OrderStatus:
    """A transaction as WeChat reports it. Anything malformed is an unknown outcome, never a guess."""
    if tx.get("out_trade_no") != order_no:
        raise ChannelUnknownOutcome("bad_answer", "the answer is about another order")
    if tx.get("mchid") not in (None, mchid) or tx.get("appid") not in (None, appid):
        raise ChannelUnknownOutcome("bad_answer", "the answer is about another merchant")
    raw_state = tx.get("trade_state")
    state = TRADE_STATES.get(raw_state) if isinstance(raw_state, str) else None
    if state is None:
        raise ChannelUnknownOutcome("unknown_trade_state", f"unexpected trade_state {raw_state!r}")
    transaction_id = tx.get("transaction_id")
    if transaction_id is not None and not isinstance(transaction_id, str):
        raise ChannelUnknownOutcome("bad_answer", "transaction_id is not a string")
    if state is not OrderState.SUCCEEDED:
        return OrderStatus(order_no, state, channel_trade_no=transaction_id or None, raw=dict(tx))
    amount = tx.get("amount")
    # ``total`` is the order's amount; ``payer_total`` is what the payer paid after coupons, so the
    # order is checked against ``total``, as WeChat advises.
    total = amount.get("total") if isinstance(amount, dict) else None
    currency = amount.get("currency") if isinstance(amount, dict) else None
    if type(total) is not int or not isinstance(currency, str):
        raise ChannelUnknownOutcome("bad_answer", "a paid transaction without an integer total and currency")
    success_time = tx.get("success_time")
    try:
        paid_at = protocol.parse_rfc3339(success_time) if isinstance(success_time, str) else None
    except ValueError as exc:
        raise ChannelUnknownOutcome("bad_answer", f"success_time {success_time!r} is not a time") from exc
    return OrderStatus(
        order_no=order_no,
        state=state,
        channel_trade_no=transaction_id or None,
        amount=total,
        currency=currency,
        paid_at=paid_at,
        raw=dict(tx),
    )
