"""Use cases of apps: create (secret shown once), change, enable/disable, rotate the secret."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import event, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.container import Container
from tongbao.errors import Conflict, InvalidRequest, NotFound
from tongbao.ids import new_id
from tongbao.merchants.domain.apps import (
    AppRuleBroken,
    check_notify_url,
    check_rsa_public_key,
    parse_allowlist,
)
from tongbao.merchants.merchant_service import Page, load_merchant
from tongbao.merchants.models import App, AppSecret, Merchant
from tongbao.merchants.patching import changes, refuse_nulls
from tongbao.ttl_cache import invalidate

SECRET_PREFIX = "tbs_"  # noqa: S105 - a prefix that makes leaked secrets recognisable


@dataclass(frozen=True)
class AppWithSecret:
    app: App
    secret: str
    previous_secret_expires_at: datetime | None = None


@dataclass(frozen=True)
class Caller:
    """An authenticated app with what the request path needs to know of it."""

    app: App
    merchant: Merchant
    secrets: list[str]  # newest first; more than one only during a rotation overlap


def secret_context(secret_id: str) -> str:
    return f"app_secret:{secret_id}"


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    try:
        if fields.get("ip_allowlist") is not None:
            fields["ip_allowlist"] = parse_allowlist(fields["ip_allowlist"])
        if fields.get("notify_url"):
            fields["notify_url"] = check_notify_url(fields["notify_url"])
        if fields.get("rsa_public_key_pem"):
            fields["rsa_public_key_pem"] = check_rsa_public_key(fields["rsa_public_key_pem"])
    except AppRuleBroken as exc:
        raise InvalidRequest(str(exc), param=exc.param) from exc
    return fields


def _name_taken(name: str) -> Conflict:
    return Conflict(f"this merchant already has an app named {name!r}", code="name_taken", param="name")


async def load_app(tx: AsyncSession, app_id: str, *, lock: bool = False) -> App:
    stmt = select(App).where(App.id == app_id)
    if lock:
        stmt = stmt.with_for_update()
    app = await tx.scalar(stmt)
    if app is None:
        raise NotFound(f"no app {app_id}", param="app_id")
    return app


class AppService:
    def __init__(self, c: Container) -> None:
        self.c = c

    def _new_secret(self, app_id: str, now: datetime) -> tuple[AppSecret, str]:
        plain = SECRET_PREFIX + secrets.token_urlsafe(32)
        secret_id = new_id("app_secret")
        row = AppSecret(
            id=secret_id,
            app_id=app_id,
            secret_ciphertext=self.c.secrets.seal(plain, secret_context(secret_id)),
            created_at=now,
            expires_at=None,
        )
        return row, plain

    async def create(self, merchant_id: str, fields: dict[str, Any]) -> AppWithSecret:
        fields = _checked({"ip_allowlist": [], **fields})
        now = self.c.clock.now()
        app = App(
            id=new_id("app"), merchant_id=merchant_id, enabled=True, created_at=now, updated_at=now, **fields
        )
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id)
            if await tx.scalar(select(App.id).where(App.merchant_id == merchant_id, App.name == app.name)):
                raise _name_taken(app.name)
            secret_row, plain = self._new_secret(app.id, now)
            tx.add(app)
            await tx.flush()
            tx.add(secret_row)
            try:
                await tx.commit()
            except IntegrityError as exc:
                raise _name_taken(app.name) from exc
        return AppWithSecret(app, plain)

    async def get(self, app_id: str) -> App:
        async with self.c.uow() as tx:
            return await load_app(tx, app_id)

    async def list_apps(self, page: Page, merchant_id: str | None = None) -> list[App]:
        stmt = select(App).order_by(App.id).limit(page.limit)
        if page.starting_after:
            stmt = stmt.where(App.id > page.starting_after)
        if merchant_id:
            stmt = stmt.where(App.merchant_id == merchant_id)
        async with self.c.uow() as tx:
            return list((await tx.scalars(stmt)).all())

    async def update(self, app_id: str, fields: dict[str, Any]) -> App:
        refuse_nulls(fields, ("name", "ip_allowlist"))
        fields = _checked(fields)
        async with self.c.uow() as tx:
            app = await load_app(tx, app_id, lock=True)
            fields = changes(app, fields)
            if not fields:
                return app
            new_name = fields.get("name")
            if new_name:
                taken = await tx.scalar(
                    select(App.id).where(App.merchant_id == app.merchant_id, App.name == new_name)
                )
                if taken:
                    raise _name_taken(new_name)
            for key, value in fields.items():
                setattr(app, key, value)
            app.updated_at = self.c.clock.now()
            try:
                await tx.commit()
            except IntegrityError as exc:
                raise _name_taken(str(new_name)) from exc
            return app

    async def set_enabled(self, app_id: str, enabled: bool) -> App:
        async with self.c.uow() as tx:
            app = await load_app(tx, app_id, lock=True)
            if app.enabled != enabled:
                app.enabled = enabled
                app.updated_at = self.c.clock.now()
                await tx.commit()
            return app

    async def rotate_secret(self, app_id: str, overlap_s: int | None) -> AppWithSecret:
        settings = self.c.settings
        overlap = settings.secret_overlap_default_s if overlap_s is None else overlap_s
        if not 0 <= overlap <= settings.secret_overlap_max_s:
            raise InvalidRequest(
                f"overlap_seconds must be between 0 and {settings.secret_overlap_max_s}",
                param="overlap_seconds",
            )
        now = self.c.clock.now()
        until = now + timedelta(seconds=overlap)
        async with self.c.uow() as tx:
            app = await load_app(tx, app_id, lock=True)
            for old in await self._live_secrets(tx, app_id, now):
                # An old secret never lives longer than it already would.
                if old.expires_at is None or old.expires_at > until:
                    old.expires_at = until
            secret_row, plain = self._new_secret(app.id, now)
            tx.add(secret_row)
            app.updated_at = now
            await tx.commit()
        return AppWithSecret(app, plain, until)

    async def caller(self, app_id: str, *, fresh: bool = False) -> Caller | None:
        """The app, its merchant and its live secrets, for request authentication: from this
        process's cache unless ``fresh`` (kept for ``caller_cache_s``, never past a secret's end)."""
        now = self.c.clock.now()
        cached = None if fresh else self.c.callers.get(app_id, now)
        if cached is not None:
            return cast(Caller, cached)
        async with self.c.uow() as tx:
            app = await tx.scalar(select(App).where(App.id == app_id))
            if app is None:
                return None
            merchant = await load_merchant(tx, app.merchant_id)
            rows = await self._live_secrets(tx, app_id, now)
        plain = [self.c.secrets.open(r.secret_ciphertext, secret_context(r.id)) for r in rows]
        caller = Caller(app, merchant, plain)
        ends = [r.expires_at for r in rows if r.expires_at is not None]
        self.c.callers.put(app_id, caller, now, min(ends) if ends else None)
        return caller

    @staticmethod
    async def _live_secrets(tx: AsyncSession, app_id: str, now: datetime) -> list[AppSecret]:
        stmt = (
            select(AppSecret)
            .where(
                AppSecret.app_id == app_id, or_(AppSecret.expires_at.is_(None), AppSecret.expires_at > now)
            )
            .order_by(AppSecret.created_at.desc(), AppSecret.id.desc())
        )
        return list((await tx.scalars(stmt)).all())


def _forget_callers(*_: object) -> None:
    invalidate()


# A write of an app, a secret or a merchant in this process ends every cached caller at once.
for _model in (App, AppSecret, Merchant):
    for _change in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _change, _forget_callers)
