"""Operator tokens for the admin API: issued once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tongbao.container import Container
from tongbao.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from tongbao.ids import new_id
from tongbao.security.models import Operator

TOKEN_PREFIX = "tbo_"  # noqa: S105 - a prefix that makes leaked tokens recognisable
_NAME = re.compile(r"[A-Za-z0-9_.@\-]{1,100}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    operator: Operator
    token: str


class OperatorService:
    def __init__(self, c: Container) -> None:
        self.c = c

    async def create(self, name: str, token: str | None = None) -> IssuedToken:
        if not _NAME.fullmatch(name):
            raise InvalidRequest("an operator name is 1-100 characters of A-Z a-z 0-9 _ . @ -", param="name")
        token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
        operator = Operator(
            id=new_id("operator"),
            name=name,
            token_sha256=hash_token(token),
            created_at=self.c.clock.now(),
            revoked_at=None,
        )
        async with self.c.uow() as tx:
            tx.add(operator)
            try:
                await tx.commit()
            except IntegrityError as exc:
                raise Conflict(f"an operator named {name!r} exists", code="name_taken", param="name") from exc
        return IssuedToken(operator, token)

    async def list_operators(self) -> list[Operator]:
        async with self.c.uow() as tx:
            return list((await tx.scalars(select(Operator).order_by(Operator.id))).all())

    async def revoke(self, name: str) -> Operator:
        async with self.c.uow() as tx:
            operator = await tx.scalar(select(Operator).where(Operator.name == name))
            if operator is None:
                raise NotFound(f"no operator named {name!r}", param="name")
            if operator.revoked_at is None:
                operator.revoked_at = self.c.clock.now()
                await tx.commit()
            return operator

    async def reissue(self, name: str) -> IssuedToken:
        """A new token for an operator (the old one stops working), or a new operator."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self.c.uow() as tx:
            operator = await tx.scalar(select(Operator).where(Operator.name == name).with_for_update())
            if operator is not None:
                operator.token_sha256 = hash_token(token)
                operator.revoked_at = None
                await tx.commit()
                return IssuedToken(operator, token)
        return await self.create(name, token)

    async def authenticate(self, token: str) -> Operator:
        async with self.c.uow() as tx:
            operator = await tx.scalar(select(Operator).where(Operator.token_sha256 == hash_token(token)))
        if operator is None or operator.revoked_at is not None:
            raise Unauthorized("the operator token is unknown or revoked", code="operator_unauthorized")
        return operator
