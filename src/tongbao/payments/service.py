"""Payment use cases for merchants and payers: create, look up, close, start a channel attempt.

Network calls to a channel never happen inside a database transaction: an attempt is written
first (with its janitor query job), the channel is called, and the answer is written after. A
crash in between leaves a pending attempt that the janitor's query resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.base import ChannelRejected, ChannelUnknownOutcome, OrderRequest
from tongbao.channels.kinds import Method
from tongbao.container import Container
from tongbao.db.merchant_numbers import earlier_request
from tongbao.db.retry import retrying
from tongbao.db.statements import column_values, core_transaction, table_of
from tongbao.db.uow import publish
from tongbao.errors import Conflict, Forbidden, InvalidRequest
from tongbao.ids import new_id
from tongbao.jobs.payloads import schedule
from tongbao.merchants.app_service import Caller
from tongbao.merchants.domain.onboarding import MerchantStatus, can_take_payments
from tongbao.merchants.models import ChannelAccount, Merchant
from tongbao.payments import domain
from tongbao.payments.barcode import charge_barcode
from tongbao.payments.domain import AttemptStatus, PaymentStatus
from tongbao.payments.job_payloads import ExpirePayment, QueryAttempt
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.requests import NewPayment, method_of, new_payment
from tongbao.payments.routing import account_for
from tongbao.payments.schemas import PaymentCreate
from tongbao.payments.store import attempts_of, load_payment, lock_attempt

_attempts = table_of(PaymentAttempt)
_INSERT_PAYMENT = insert(table_of(Payment))
_INSERT_ATTEMPT = insert(_attempts)
_NOTE_OPENING = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("b_id"), _attempts.c.status == AttemptStatus.PENDING.value)
    .values(
        action=bindparam("action"), last_error=bindparam("last_error"), updated_at=bindparam("updated_at")
    )
)


@dataclass(frozen=True)
class Opened:
    payment_id: str
    created: bool
    # The payment and attempts as written, when nothing else can have changed them since.
    written: tuple[Payment, list[PaymentAttempt]] | None = None


async def _earlier(tx: AsyncSession, app_id: str, number: str, fingerprint: str) -> str | None:
    return await earlier_request(
        tx, Payment, "out_trade_no", app_id=app_id, number=number, fingerprint=fingerprint, what="payment"
    )


class PaymentService:
    def __init__(self, c: Container) -> None:
        self.c = c

    def cashier_url(self, payment_id: str) -> str:
        return f"{self.c.settings.public_base_url.rstrip('/')}/pay/{payment_id}"

    def callback_url(self, account: ChannelAccount) -> str:
        return f"{self.c.settings.public_base_url.rstrip('/')}/callbacks/{account.channel}/{account.id}"

    def action_of(self, payment: Payment, attempts: list[PaymentAttempt]) -> dict[str, Any] | None:
        if payment.status != PaymentStatus.PENDING:
            return None
        if payment.method is None:
            return {"type": "redirect", "url": self.cashier_url(payment.id)}
        live = [a for a in attempts if a.status == AttemptStatus.PENDING]
        if live and live[-1].action is not None:
            return live[-1].action
        return {"type": "none"}

    async def create(self, caller: Caller, request: PaymentCreate) -> tuple[str, bool]:
        """Returns the payment's id and whether it was created now (False: the same request came
        before)."""
        opened = await self.open(caller, request)
        return opened.payment_id, opened.created

    async def open(self, caller: Caller, request: PaymentCreate) -> Opened:
        """Creates the payment (or finds the one the same request made) and opens its attempt at
        the channel; what it wrote comes back when it still is the whole truth."""
        new = new_payment(request)
        now = self.c.clock.now()
        merchant = caller.merchant
        if not can_take_payments(MerchantStatus(merchant.status)):
            raise Forbidden("the merchant is not active", code="merchant_not_active")
        if new.method is not None and not self.c.channels.supports(new.method.channel):
            raise InvalidRequest(
                f"{new.method.value} is not available", code="method_not_enabled", param="method"
            )
        fingerprint = new.fingerprint()
        # The answer for a repeated request is read after the transaction ends: on SQLite a second
        # transaction inside this one would wait for this one's lock.
        existing: str | None = None
        async with self.c.uow() as tx:
            existing = await _earlier(tx, caller.app.id, new.out_trade_no, fingerprint)
            if existing is None:
                payment, attempt, account = await self._insert(tx, caller, new, fingerprint, now)
                if payment is None:  # lost a race to an identical request
                    existing = await _earlier(tx, caller.app.id, new.out_trade_no, fingerprint)
                    if existing is None:
                        raise Conflict("out_trade_no is being used right now", code="out_trade_no_reused")
                else:
                    await tx.commit()
        if existing is not None:
            return Opened(existing, created=False)
        assert payment is not None
        if attempt is None or account is None:
            return Opened(payment.id, created=True, written=(payment, []))
        if await self._open_at_channel(payment, attempt, account, auth_code=new.auth_code):
            return Opened(payment.id, created=True, written=(payment, [attempt]))
        return Opened(payment.id, created=True)

    async def _insert(
        self, tx: AsyncSession, caller: Caller, new: NewPayment, fingerprint: str, now: datetime
    ) -> tuple[Payment | None, PaymentAttempt | None, ChannelAccount | None]:
        """Writes the payment, its expiry job and its first attempt; (None, …) if the out_trade_no
        was taken meanwhile (the transaction is then rolled back)."""
        merchant = caller.merchant
        expires_at = domain.expiry(now, new.expire_in_seconds)
        account = await account_for(tx, merchant, new.method, new.amount, now) if new.method else None
        payment = Payment(
            id=new_id("payment"),
            merchant_id=merchant.id,
            app_id=caller.app.id,
            out_trade_no=new.out_trade_no,
            amount=new.amount,
            currency=new.currency,
            subject=new.subject,
            method=new.method.value if new.method else None,
            status=PaymentStatus.PENDING.value,
            notify_url=new.notify_url,
            return_url=new.return_url,
            client_ip=new.client_ip,
            payer_openid=new.payer_openid,
            extra=new.metadata,
            fingerprint=fingerprint,
            expires_at=expires_at,
            # Known before the INSERT, so that it is not an UPDATE after it.
            channel=account.channel if account else None,
            channel_account_id=account.id if account else None,
            account_mode=account.mode if account else None,
            refunded_amount=0,
            created_at=now,
            updated_at=now,
        )
        # Written with Core, not the unit of work: a new row needs no change tracking, and the
        # object stays as written for the answer.
        try:
            await tx.execute(_INSERT_PAYMENT, column_values(payment))
        except IntegrityError:
            await tx.rollback()
            return None, None, None
        # Expiry is scheduled with the payment; the periodic sweep only catches what slips through.
        await schedule(tx, ExpirePayment(payment.id), now=now, run_at=expires_at)
        attempt = (
            await self._new_attempt(tx, payment, account, new.method) if account and new.method else None
        )
        return payment, attempt, account

    async def _new_attempt(
        self, tx: AsyncSession, payment: Payment, account: ChannelAccount, method: Method
    ) -> PaymentAttempt:
        now = self.c.clock.now()
        attempt = PaymentAttempt(
            id=new_id("attempt"),
            payment_id=payment.id,
            method=method.value,
            channel=account.channel,
            channel_account_id=account.id,
            account_mode=account.mode,
            status=AttemptStatus.PENDING.value,
            amount=payment.amount,
            currency=payment.currency,
            action=None,
            queries_done=0,
            created_at=now,
            updated_at=now,
        )
        await tx.execute(_INSERT_ATTEMPT, column_values(attempt))
        if payment.channel_account_id != account.id:  # the cashier's pick of a method
            payment.channel = account.channel
            payment.channel_account_id = account.id
            payment.account_mode = account.mode
        # The janitor: asks the channel about this attempt unless a callback settles it first.
        first_query = domain.next_query_at(now, 0, payment.expires_at) or payment.expires_at
        await schedule(tx, QueryAttempt(attempt.id), now=now, run_at=first_query)
        return attempt

    async def _open_at_channel(
        self,
        payment: Payment,
        attempt: PaymentAttempt,
        account: ChannelAccount,
        *,
        auth_code: str | None = None,
    ) -> bool:
        """True if what it wrote is all that changed (the attempt in hand is then current)."""
        adapter = self.c.channels.adapter(account.adapter_config())
        order = OrderRequest(
            order_no=attempt.id,
            method=Method(attempt.method),
            amount=attempt.amount,
            currency=attempt.currency,
            subject=payment.subject,
            notify_url=self.callback_url(account),
            expires_at=payment.expires_at,
            client_ip=payment.client_ip,
            payer_openid=payment.payer_openid,
            # Where the payer's browser lands after paying on the channel's page: the merchant's page,
            # else the cashier, which shows the outcome.
            return_url=payment.return_url or self.cashier_url(payment.id),
            auth_code=auth_code,
        )
        action: dict[str, Any] | None = None
        error: str | None = None
        failed = False
        try:
            if auth_code is not None:
                await charge_barcode(self.c, adapter, order)
                return False
            opened = await adapter.create(order)
            action = {"type": opened.type, **opened.data}
        except ChannelUnknownOutcome as exc:
            error = f"{exc.code}: {exc.message}"[:500]  # the janitor's query will tell
        except ChannelRejected as exc:
            error, failed = f"{exc.code}: {exc.message}"[:500], True
        if not failed and await retrying(lambda: self._note_opening(attempt.id, action, error)):
            attempt.action, attempt.last_error = action, error
            return True
        await retrying(lambda: self._record_opening(payment.id, attempt.id, action, error, failed=failed))
        return False

    async def _note_opening(self, attempt_id: str, action: dict[str, Any] | None, error: str | None) -> bool:
        """The channel's answer on a still-pending attempt, in one statement: no state moves, so no
        lock of the payment is needed; a callback that settled the attempt first wins (False)."""
        params = {"b_id": attempt_id, "action": action, "last_error": error, "updated_at": self.c.clock.now()}
        async with core_transaction(self.c.engine) as tx:
            result = await tx.execute(_NOTE_OPENING, params)
            await tx.commit()
        return bool(getattr(result, "rowcount", 0))

    async def _record_opening(
        self,
        payment_id: str,
        attempt_id: str,
        action: dict[str, Any] | None,
        error: str | None,
        *,
        failed: bool,
    ) -> None:
        """What the channel answered to the attempt's creation, unless a callback settled it first."""
        now = self.c.clock.now()
        async with self.c.uow() as tx:
            payment = await load_payment(tx, payment_id, lock=True)
            row = await lock_attempt(tx, attempt_id)
            assert row is not None
            if row.status == AttemptStatus.PENDING:
                row.action = action
                row.last_error = error
                row.updated_at = now
                if failed:
                    publish(tx, domain.finish_attempt(payment, row, AttemptStatus.FAILED, now=now))
            await tx.commit()

    async def start_attempt(self, payment_id: str, method_value: object) -> dict[str, Any]:
        """The payer picked a method at the cashier."""
        method = method_of(method_value)
        if method is None:
            raise InvalidRequest("method is required", code="parameter_missing", param="method")
        if method is Method.WECHAT_JSAPI:
            raise InvalidRequest("wechat_jsapi runs inside WeChat, not at the cashier", param="method")
        async with self.c.uow() as tx:
            payment = await load_payment(tx, payment_id, lock=True)
            if payment.status != PaymentStatus.PENDING:
                raise Conflict(f"the payment is {payment.status}", code="payment_not_pending", param=None)
            if payment.method is not None:
                raise Conflict(
                    "this payment's method was chosen by the merchant", code="method_fixed", param="method"
                )
            if payment.expires_at <= self.c.clock.now() + timedelta(seconds=30):
                raise Conflict("the payment is about to expire", code="payment_expiring", param=None)
            if len(await attempts_of(tx, payment.id)) >= domain.MAX_ATTEMPTS:
                raise Conflict("this payment has had too many attempts", code="too_many_attempts")
            merchant = await tx.get(Merchant, payment.merchant_id)
            assert merchant is not None
            account = await account_for(tx, merchant, method, payment.amount, self.c.clock.now())
            attempt = await self._new_attempt(tx, payment, account, method)
            await tx.commit()
        await self._open_at_channel(payment, attempt, account)
        async with self.c.uow() as tx:
            row = await tx.get(PaymentAttempt, attempt.id)
        assert row is not None
        return {"attempt_id": row.id, "status": row.status, "action": row.action, "error": row.last_error}
