"""The refund methods of ``gateway.do``: ``alipay.trade.refund`` and
``alipay.trade.fastpay.refund.query``, answered from the refunds ``state_refunds`` keeps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tongbao.channels.alipay import protocol
from tongbao.money import fen_to_yuan

from .gateway_errors import business, success
from .state import text_param
from .state_refunds import execute, succeed

if TYPE_CHECKING:
    from .gateway import Call


def refund(call: Call) -> dict[str, Any]:
    trade = call.sim.trade(call.app.app_id, call.biz)
    made, moved = execute(call.sim, trade, call.biz, call.faults)
    answer = success(
        trade_no=trade.trade_no,
        out_trade_no=trade.out_trade_no,
        buyer_logon_id="159****5620",
        fund_change="Y" if moved else "N",
        refund_fee=fen_to_yuan(trade.refunded()),  # all refunded on the trade so far
    )
    if trade.buyer_id:
        answer["buyer_user_id"] = trade.buyer_id
    if made.status == protocol.REFUND_SUCCESS and made.finished_at is not None:
        answer["gmt_refund_pay"] = protocol.format_time(made.finished_at)
    return answer


def refund_query(call: Call) -> dict[str, Any]:
    trade = call.sim.trade(call.app.app_id, call.biz)
    number = text_param(call.biz, "out_request_no", 64)
    options = call.biz.get("query_options", [])
    if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
        raise business("ACQ.INVALID_PARAMETER", "query_options 格式错误")
    found = trade.refunds.get(number)
    if found is None:
        return success()  # no such refund (or one refused when asked): code and msg only
    answer = success(
        trade_no=trade.trade_no,
        out_trade_no=trade.out_trade_no,
        out_request_no=found.out_request_no,
        total_amount=fen_to_yuan(trade.total),
        refund_amount=fen_to_yuan(found.amount),
    )
    if found.reason:
        answer["refund_reason"] = found.reason
    if found.status == protocol.REFUND_PROCESSING:
        # Named, no refund_status: Alipay holds it and has not finished (the docs' "not yet").
        found.polls_left = max(0, found.polls_left - 1)
        if found.polls_left == 0:
            succeed(call.sim, trade, found)  # seen by the next query
        return answer
    answer["refund_status"] = found.status
    if found.status == protocol.REFUND_SUCCESS and "gmt_refund_pay" in options and found.finished_at:
        answer["gmt_refund_pay"] = protocol.format_time(found.finished_at)
    if found.status == protocol.REFUND_FAIL and found.error_code:
        answer["error_code"] = found.error_code
    return answer
