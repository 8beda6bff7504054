"""The Alipay simulator's in-memory world: apps, trades, and what payers and merchants do to them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.alipay import protocol
from tongbao.clock import Clock
from tongbao.money import yuan_to_fen
from tongbao.security import samples

from ..base.control import ControlError, check_amount
from ..base.lifecycle import SimulatorBase
from .gateway_errors import business
from .notify import ALIPAY_NOTIFY_SCHEDULE_S, Notifier
from .state_models import App, Trade, new_buyer_id, new_qr_code, new_trade_no

DEFAULT_EXPIRY: Final = timedelta(hours=2)
_AMOUNT: Final = re.compile(r"(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?")
_OUT_TRADE_NO: Final = re.compile(r"[0-9A-Za-z_\-|*.]{1,64}")
# Barcodes that pay at once, and barcodes whose owner must confirm on the phone first.
IMMEDIATE_PREFIX: Final = "28"
WAITING_PREFIX: Final = "26"


def parse_amount(value: Any, name: str = "total_amount") -> int:
    """Alipay takes 0 to 2 decimals ("12", "12.3", "12.30"), from 0.01 to 100000000."""
    match = _AMOUNT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise business("ACQ.INVALID_PARAMETER", f"{name} 格式错误")
    fen = yuan_to_fen(f"{match.group(1)}.{(match.group(2) or '').ljust(2, '0')}")
    if not 1 <= fen <= 10_000_000_000:
        raise business("ACQ.INVALID_PARAMETER", f"{name} 超出范围")
    return fen


def text_param(biz: Mapping[str, Any], name: str, max_len: int = 256) -> str:
    value = biz.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise business("ACQ.INVALID_PARAMETER", f"{name} 不能为空或超长")
    return value


class AlipaySimulator(SimulatorBase[Notifier]):
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        platform_key: rsa.RSAPrivateKey | None = None,
        callback_schedule_s: Sequence[float] = ALIPAY_NOTIFY_SCHEDULE_S,
        http_timeout_s: float = 5.0,
    ) -> None:
        self.key = platform_key or samples.new_rsa_key()
        self.public_key_pem = samples.public_pem(self.key)
        super().__init__(
            clock,
            lambda clock, faults: Notifier(self.key, clock, faults, callback_schedule_s, http_timeout_s),
        )
        self.apps: dict[str, App] = {}
        self._trades: dict[tuple[str, str], Trade] = {}
        self._by_qr_code: dict[str, Trade] = {}

    def register_merchant(self, app_id: str, public_key_pem: str) -> dict[str, str]:
        """Register (or replace) an app with its RSA2 public key; returns Alipay's public key for it."""
        if not isinstance(app_id, str) or not re.fullmatch(r"[0-9]{6,32}", app_id):
            raise ControlError(400, "INVALID_REQUEST", "app_id is 6 to 32 digits")
        try:
            key = serialization.load_pem_public_key(str(public_key_pem).encode())
        except ValueError as exc:
            raise ControlError(400, "INVALID_REQUEST", "public_key_pem is not a PEM public key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ControlError(400, "INVALID_REQUEST", "public_key_pem must be an RSA key")
        self.apps[app_id] = App(app_id, key, "2088" + app_id[-12:].rjust(12, "0"))
        return {"alipay_public_key_pem": self.public_key_pem}

    # -- the merchant's calls --------------------------------------------------------------------

    def open_trade(self, app: App, method: str, biz: Mapping[str, Any], params: Mapping[str, str]) -> Trade:
        """Creates a trade, or finds the same one again; the same out_trade_no with other parameters
        is ACQ.CONTEXT_INCONSISTENT."""
        out_trade_no = text_param(biz, "out_trade_no", 64)
        if not _OUT_TRADE_NO.fullmatch(out_trade_no):
            raise business("ACQ.INVALID_PARAMETER", "out_trade_no 格式错误")
        fingerprint = {
            "method": method,
            "biz": {k: v for k, v in biz.items() if k not in ("auth_code",)},
            "notify_url": params.get("notify_url", ""),
        }
        now = self.clock.now()
        existing = self._trades.get((app.app_id, out_trade_no))
        if existing is not None:
            existing.refresh(now)
            if existing.request != fingerprint:
                raise business("ACQ.CONTEXT_INCONSISTENT")
            if existing.status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                raise business("ACQ.TRADE_HAS_SUCCESS")
            if existing.status == "TRADE_CLOSED":
                raise business("ACQ.TRADE_HAS_CLOSE")
            return existing
        total = parse_amount(biz.get("total_amount"))
        subject = text_param(biz, "subject")
        expire_text = biz.get("time_expire")
        try:
            time_expire = protocol.parse_time(expire_text) if expire_text else now + DEFAULT_EXPIRY
        except (TypeError, ValueError) as exc:
            raise business("ACQ.INVALID_PARAMETER", "time_expire 格式错误") from exc
        if time_expire <= now:
            raise business("ACQ.INVALID_PARAMETER", "time_expire 已过期")
        trade = Trade(
            app_id=app.app_id,
            seller_id=app.seller_id,
            out_trade_no=out_trade_no,
            trade_no=new_trade_no(now),
            method=method,
            subject=subject,
            total=total,
            notify_url=params.get("notify_url", ""),
            return_url=params.get("return_url", ""),
            time_expire=time_expire,
            created_at=now,
            request=fingerprint,
            qr_code=new_qr_code() if method == "alipay.trade.precreate" else None,
        )
        self._trades[(app.app_id, out_trade_no)] = trade
        if trade.qr_code:
            self._by_qr_code[trade.qr_code] = trade
        return trade

    def trades(self) -> list[Trade]:
        return list(self._trades.values())

    def trade(self, app_id: str, biz: Mapping[str, Any]) -> Trade:
        out_trade_no = biz.get("out_trade_no")
        trade = self._trades.get((app_id, out_trade_no)) if isinstance(out_trade_no, str) else None
        if trade is None and isinstance(biz.get("trade_no"), str):
            trade = next((t for t in self._trades.values() if t.trade_no == biz["trade_no"]), None)
        if trade is None or trade.app_id != app_id:
            raise business("ACQ.TRADE_NOT_EXIST")
        trade.refresh(self.clock.now())
        return trade

    def query(self, trade: Trade) -> Trade:
        if trade.polls_left > 0:
            trade.polls_left -= 1
            if trade.polls_left == 0 and trade.status == "WAIT_BUYER_PAY":
                self.pay(trade)
        return trade

    def close(self, trade: Trade) -> Trade:
        if trade.status != "WAIT_BUYER_PAY":
            raise business("ACQ.TRADE_STATUS_ERROR")
        trade.status = "TRADE_CLOSED"
        trade.polls_left = 0
        return trade

    def cancel(self, trade: Trade) -> Trade:
        """Revokes a trade whatever its state: unpaid ones close, paid ones are refunded in full."""
        trade.cancel_action = "refund" if trade.paid is not None else "close"
        trade.status = "TRADE_CLOSED"
        trade.polls_left = 0
        return trade

    @staticmethod
    def check_auth_code(auth_code: Any) -> str:
        if (
            not isinstance(auth_code, str)
            or not protocol.AUTH_CODE.fullmatch(auth_code)
            or auth_code[:2] not in (IMMEDIATE_PREFIX, WAITING_PREFIX)
        ):
            raise business("ACQ.PAYMENT_AUTH_CODE_INVALID")
        return auth_code

    def barcode(self, trade: Trade, auth_code: str, processing_polls: int = 0) -> Trade:
        """alipay.trade.pay with scene=bar_code: "28…" pays at once, "26…" waits for the payer (or,
        with ``processing_polls``, pays by itself after that many queries)."""
        if trade.auth_code is not None:
            return trade  # the same charge again: its outcome so far
        trade.auth_code = auth_code
        if auth_code.startswith(IMMEDIATE_PREFIX) and not processing_polls:
            return self.pay(trade)
        trade.polls_left = processing_polls
        return trade

    # -- the payer -------------------------------------------------------------------------------

    def find_trade(self, selector: Mapping[str, Any]) -> Trade:
        qr_code, out_trade_no = selector.get("qr_code"), selector.get("out_trade_no")
        if bool(qr_code) == bool(out_trade_no):
            raise ControlError(400, "INVALID_REQUEST", "give exactly one of out_trade_no, qr_code")
        if qr_code:
            found = [self._by_qr_code[qr_code]] if qr_code in self._by_qr_code else []
        else:
            app_id = selector.get("app_id")
            found = [t for (a, no), t in self._trades.items() if no == out_trade_no and app_id in (None, a)]
        if not found:
            raise ControlError(404, "TRADE_NOT_EXIST", "no such trade")
        if len(found) > 1:
            raise ControlError(409, "AMBIGUOUS_TRADE", "several apps have this out_trade_no; give app_id")
        found[0].refresh(self.clock.now())
        return found[0]

    def pay(self, trade: Trade, *, amount: int | None = None) -> Trade:
        """The payer pays (``amount`` fen if given); the notification starts in the background."""
        if trade.status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            raise ControlError(409, "TRADE_PAID", "the trade is already paid")
        if trade.status == "TRADE_CLOSED":
            raise ControlError(409, "TRADE_CLOSED", "the trade is closed")
        check_amount(amount)
        trade.paid = trade.total if amount is None else amount
        trade.buyer_id = new_buyer_id()
        trade.gmt_payment = self.clock.now()
        trade.status = "TRADE_SUCCESS"
        trade.polls_left = 0
        if trade.notify_url:
            self.notifier.notify(trade)
        return trade

    def decline(self, trade: Trade) -> Trade:
        """The payer refuses on the phone: Alipay closes the trade; no notification."""
        if trade.status != "WAIT_BUYER_PAY":
            raise ControlError(409, "TRADE_NOT_OPEN", f"the trade is {trade.status}")
        trade.status = "TRADE_CLOSED"
        trade.polls_left = 0
        return trade
