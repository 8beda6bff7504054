"""Fee plans (per merchant and method, or the platform's default per method) and channel-cost plans
(per channel account), each with effective dates. A plan starts now or later, never in the past, and
two plans for the same thing never overlap: a plan change therefore never alters a charged payment.
To change a plan, end the current one (``end``) and write the next from that moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.kinds import Method
from tongbao.container import Container
from tongbao.errors import NotFound
from tongbao.ids import new_id
from tongbao.ledger.domain import FeePlanInvalid, FeeRule, RefundMode
from tongbao.ledger.models import ChannelCostPlan, FeePlan
from tongbao.merchants.models import ChannelAccount, Merchant

# A start this close behind the clock is "now": requests take time to arrive.
PAST_TOLERANCE: Final = timedelta(seconds=60)


def parse_rate(value: object) -> Decimal:
    """Basis points as a decimal string ("60", "38.5") or an integer; never a float."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FeePlanInvalid("rate_invalid", "rate_bps", "rate_bps is a decimal string or an integer")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise FeePlanInvalid(
            "rate_invalid", "rate_bps", "rate_bps is a decimal number of basis points"
        ) from None
    if not rate.is_finite():
        raise FeePlanInvalid("rate_invalid", "rate_bps", "rate_bps is a finite number of basis points")
    if rate.as_tuple().exponent < -4:  # type: ignore[operator]
        raise FeePlanInvalid("rate_invalid", "rate_bps", "rate_bps has at most 4 decimals")
    return rate


def plan_view(plan: FeePlan | ChannelCostPlan) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": plan.id,
        "rate_bps": str(plan.rate_bps),
        "minimum": plan.minimum,
        "cap": plan.cap,
        "refund_mode": plan.refund_mode,
        "effective_from": plan.effective_from,
        "effective_to": plan.effective_to,
        "created_by": plan.created_by,
        "created_at": plan.created_at,
    }
    if isinstance(plan, FeePlan):
        view |= {"merchant_id": plan.merchant_id, "method": plan.method}
    else:
        view["channel_account_id"] = plan.channel_account_id
    return view


def _period(now: datetime, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime | None]:
    start = start or now
    if start < now - PAST_TOLERANCE:
        raise FeePlanInvalid(
            "effective_from_past",
            "effective_from",
            "a plan starts now or later: past payments keep their plan",
        )
    if end is not None and end <= start:
        raise FeePlanInvalid("effective_to_invalid", "effective_to", "effective_to is after effective_from")
    return start, end


def _overlapping(model: Any, start: datetime, end: datetime | None) -> Any:
    conditions = [or_(model.effective_to.is_(None), model.effective_to > start)]
    if end is not None:
        conditions.append(model.effective_from < end)
    return conditions


async def _refuse_overlap(tx: AsyncSession, stmt: Any) -> None:
    clash = await tx.scalar(stmt.limit(1))
    if clash is not None:
        raise FeePlanInvalid(
            "plan_overlaps",
            "effective_from",
            f"plan {clash.id} is in effect then ({clash.effective_from.isoformat()} → "
            f"{clash.effective_to.isoformat() if clash.effective_to else 'open'}); end it first",
        )


class PlanService:
    def __init__(self, c: Container) -> None:
        self.c = c

    async def create_fee_plan(self, operator: str, body: dict[str, Any]) -> dict[str, Any]:
        method, merchant_id = body["method"], body["merchant_id"]
        if method not in set(Method):
            raise FeePlanInvalid("method_invalid", "method", f"unknown method {method!r}")
        owner = FeePlan.merchant_id.is_(None) if merchant_id is None else FeePlan.merchant_id == merchant_id
        owned_by: dict[str, str | None] = {"merchant_id": merchant_id, "method": method}
        return await self._create(FeePlan, operator, body, [owner, FeePlan.method == method], owned_by)

    async def create_cost_plan(
        self, operator: str, channel_account_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        owner = ChannelCostPlan.channel_account_id == channel_account_id
        owned_by: dict[str, str | None] = {"channel_account_id": channel_account_id}
        return await self._create(ChannelCostPlan, operator, body, [owner], owned_by)

    async def _create(
        self,
        model: type[FeePlan] | type[ChannelCostPlan],
        operator: str,
        body: dict[str, Any],
        same_owner: list[Any],
        owned_by: dict[str, str | None],
    ) -> dict[str, Any]:
        """A plan for ``owned_by`` (whose existence is checked), refused if another plan of the same
        owner is in effect during any of its period."""
        rule = FeeRule(
            parse_rate(body["rate_bps"]), body["minimum"], body["cap"], RefundMode(body["refund_mode"])
        )
        now = self.c.clock.now()
        start, end = _period(now, body["effective_from"], body["effective_to"])
        async with self.c.uow() as tx:
            await _owner_exists(tx, owned_by)
            await _refuse_overlap(tx, select(model).where(*same_owner, *_overlapping(model, start, end)))
            plan = model(
                id=new_id("fee_plan" if model is FeePlan else "cost_plan"),
                **owned_by,
                **_rule_columns(rule),
                effective_from=start,
                effective_to=end,
                created_by=operator,
                created_at=now,
            )
            tx.add(plan)
            await tx.commit()
        return plan_view(plan)

    async def end(
        self, model: type[FeePlan] | type[ChannelCostPlan], plan_id: str, at: datetime | None
    ) -> dict[str, Any]:
        """Ends a plan at ``at`` (now by default), never before now: what it charged stays charged."""
        now = self.c.clock.now()
        at = at or now
        async with self.c.uow() as tx:
            plan: FeePlan | ChannelCostPlan | None = await tx.get(model, plan_id, with_for_update=True)
            if plan is None:
                raise NotFound("no such plan", code="plan_not_found", param="plan_id")
            if at < now - PAST_TOLERANCE:
                raise FeePlanInvalid("effective_to_past", "effective_to", "a plan ends now or later")
            if plan.effective_to is not None and plan.effective_to <= now:
                raise FeePlanInvalid("plan_ended", None, "the plan has ended already")
            plan.effective_to = max(at, plan.effective_from)
            await tx.commit()
        return plan_view(plan)

    async def list_fee_plans(self, merchant_id: str | None, method: str | None) -> list[dict[str, Any]]:
        stmt = select(FeePlan).order_by(FeePlan.created_at, FeePlan.id)
        if merchant_id is not None:
            stmt = stmt.where(FeePlan.merchant_id == merchant_id)
        if method is not None:
            stmt = stmt.where(FeePlan.method == method)
        async with self.c.uow() as tx:
            return [plan_view(p) for p in await tx.scalars(stmt)]

    async def list_cost_plans(self, channel_account_id: str) -> list[dict[str, Any]]:
        stmt = (
            select(ChannelCostPlan)
            .where(ChannelCostPlan.channel_account_id == channel_account_id)
            .order_by(ChannelCostPlan.created_at, ChannelCostPlan.id)
        )
        async with self.c.uow() as tx:
            return [plan_view(p) for p in await tx.scalars(stmt)]


async def _owner_exists(tx: AsyncSession, owned_by: dict[str, str | None]) -> None:
    merchant_id, account_id = owned_by.get("merchant_id"), owned_by.get("channel_account_id")
    if merchant_id is not None and await tx.get(Merchant, merchant_id) is None:
        raise NotFound("no such merchant", code="merchant_not_found", param="merchant_id")
    if account_id is not None and await tx.get(ChannelAccount, account_id) is None:
        raise NotFound(
            "no such channel account", code="channel_account_not_found", param="channel_account_id"
        )


def _rule_columns(rule: FeeRule) -> dict[str, Any]:
    return {
        "rate_bps": rule.rate_bps,
        "minimum": rule.minimum,
        "cap": rule.cap,
        "refund_mode": rule.refund_mode.value,
    }
