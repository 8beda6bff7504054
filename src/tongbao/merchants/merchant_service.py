"""Use cases of merchant onboarding: profile, documents, review transitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from tongbao.container import Container
from tongbao.errors import Conflict, InvalidRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from tongbao.ids import new_id
from tongbao.merchants.domain import onboarding
from tongbao.merchants.domain.documents import (
    DocumentKind,
    DocumentRejected,
    check_document,
    missing_documents,
)
from tongbao.merchants.domain.onboarding import MerchantStatus, ReviewAction
from tongbao.merchants.models import Merchant, MerchantDocument, MerchantEvent
from tongbao.merchants.patching import changes, refuse_nulls

_DOCUMENT_ERRORS = {
    "document_too_large": PayloadTooLarge,
    "document_type_unsupported": UnsupportedMediaType,
    "document_empty": InvalidRequest,
}


# A merchant always has these; the rest of its profile is optional and a PATCH may clear it.
REQUIRED_FIELDS = frozenset({"name", "legal_name"})


@dataclass(frozen=True)
class Page:
    limit: int = 50
    starting_after: str | None = None


async def load_merchant(tx: AsyncSession, merchant_id: str, *, lock: bool = False) -> Merchant:
    stmt = select(Merchant).where(Merchant.id == merchant_id)
    if lock:
        stmt = stmt.with_for_update()
    merchant = await tx.scalar(stmt)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}", param="merchant_id")
    return merchant


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a merchant named {name!r} exists", code="name_taken", param="name")


class MerchantService:
    def __init__(self, c: Container) -> None:
        self.c = c

    async def create(self, fields: dict[str, Any], actor: str) -> Merchant:
        now = self.c.clock.now()
        merchant = Merchant(
            id=new_id("merchant"),
            status=MerchantStatus.DRAFT.value,
            status_reason=None,
            created_at=now,
            updated_at=now,
            **fields,
        )
        async with self.c.uow() as tx:
            if await tx.scalar(select(Merchant.id).where(Merchant.name == merchant.name)):
                raise _name_taken(merchant.name)
            tx.add(merchant)
            tx.add(
                MerchantEvent(
                    id=new_id("merchant_event"),
                    merchant_id=merchant.id,
                    action="create",
                    from_status="",
                    to_status=MerchantStatus.DRAFT.value,
                    actor=actor,
                    reason=None,
                    created_at=now,
                )
            )
            try:
                await tx.commit()
            except IntegrityError as exc:  # a concurrent create took the name first
                raise _name_taken(merchant.name) from exc
        return merchant

    async def get(self, merchant_id: str) -> Merchant:
        async with self.c.uow() as tx:
            return await load_merchant(tx, merchant_id)

    async def list_merchants(self, page: Page, status: MerchantStatus | None = None) -> list[Merchant]:
        stmt = select(Merchant).order_by(Merchant.id).limit(page.limit)
        if page.starting_after:
            stmt = stmt.where(Merchant.id > page.starting_after)
        if status is not None:
            stmt = stmt.where(Merchant.status == status.value)
        async with self.c.uow() as tx:
            return list((await tx.scalars(stmt)).all())

    async def update(self, merchant_id: str, fields: dict[str, Any]) -> Merchant:
        """``fields`` holds what the PATCH sent; null clears the optional contact fields."""
        refuse_nulls(fields, REQUIRED_FIELDS)
        async with self.c.uow() as tx:
            merchant = await load_merchant(tx, merchant_id, lock=True)
            self._require_editable(merchant)
            fields = changes(merchant, fields)
            if not fields:
                return merchant
            new_name = fields.get("name")
            if new_name and await tx.scalar(select(Merchant.id).where(Merchant.name == new_name)):
                raise _name_taken(new_name)
            for key, value in fields.items():
                setattr(merchant, key, value)
            merchant.updated_at = self.c.clock.now()
            try:
                await tx.commit()
            except IntegrityError as exc:
                raise _name_taken(str(new_name)) from exc
            return merchant

    async def transition(
        self, merchant_id: str, action: ReviewAction, actor: str, reason: str | None
    ) -> Merchant:
        async with self.c.uow() as tx:
            merchant = await load_merchant(tx, merchant_id, lock=True)
            try:
                step = onboarding.transition(MerchantStatus(merchant.status), action, reason)
            except onboarding.IllegalTransition as exc:
                raise Conflict(str(exc), code="transition_invalid", param="action") from exc
            except onboarding.ReasonRequired as exc:
                raise InvalidRequest(str(exc), code="parameter_missing", param="reason") from exc
            if action is ReviewAction.SUBMIT:
                missing = missing_documents(await self._current_kinds(tx, merchant_id))
                if missing:
                    raise Conflict(
                        "documents missing: " + ", ".join(k.value for k in missing),
                        code="documents_missing",
                        param="documents",
                    )
            now = self.c.clock.now()
            merchant.status = step.to_status.value
            merchant.status_reason = step.reason
            merchant.updated_at = now
            tx.add(
                MerchantEvent(
                    id=new_id("merchant_event"),
                    merchant_id=merchant_id,
                    action=action.value,
                    from_status=step.from_status.value,
                    to_status=step.to_status.value,
                    actor=actor,
                    reason=step.reason,
                    created_at=now,
                )
            )
            await tx.commit()
            return merchant

    async def events(self, merchant_id: str) -> list[MerchantEvent]:
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id)
            stmt = (
                select(MerchantEvent)
                .where(MerchantEvent.merchant_id == merchant_id)
                .order_by(MerchantEvent.id)
            )
            return list((await tx.scalars(stmt)).all())

    async def add_document(
        self,
        merchant_id: str,
        kind: DocumentKind,
        *,
        filename: str,
        content_type: str,
        content: bytes,
        actor: str,
    ) -> MerchantDocument:
        async with self.c.uow() as tx:
            # An unknown merchant is 404 whatever the file; the file is judged before the status.
            merchant = await load_merchant(tx, merchant_id, lock=True)
            try:
                checked = check_document(
                    kind, filename, content_type, content, self.c.settings.document_max_bytes
                )
            except DocumentRejected as exc:
                raise _DOCUMENT_ERRORS[exc.code](str(exc), code=exc.code, param="file") from exc
            self._require_editable(merchant)
            now = self.c.clock.now()
            previous = await tx.scalars(
                select(MerchantDocument).where(
                    MerchantDocument.merchant_id == merchant_id,
                    MerchantDocument.kind == kind.value,
                    MerchantDocument.superseded_at.is_(None),
                )
            )
            for old in previous:
                old.superseded_at = now
            document = MerchantDocument(
                id=new_id("document"),
                merchant_id=merchant_id,
                kind=kind.value,
                filename=checked.filename,
                content_type=checked.content_type,
                size_bytes=checked.size_bytes,
                sha256=checked.sha256,
                content=content,
                uploaded_by=actor,
                created_at=now,
                superseded_at=None,
            )
            tx.add(document)
            merchant.updated_at = now
            await tx.commit()
            return document

    async def documents(self, merchant_id: str, include_superseded: bool = False) -> list[MerchantDocument]:
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id)
            stmt = (
                select(MerchantDocument)
                .options(defer(MerchantDocument.content))
                .where(MerchantDocument.merchant_id == merchant_id)
            )
            if not include_superseded:
                stmt = stmt.where(MerchantDocument.superseded_at.is_(None))
            return list((await tx.scalars(stmt.order_by(MerchantDocument.id))).all())

    async def document(self, merchant_id: str, document_id: str) -> MerchantDocument:
        async with self.c.uow() as tx:
            await load_merchant(tx, merchant_id)
            document = await tx.scalar(
                select(MerchantDocument).where(
                    MerchantDocument.id == document_id, MerchantDocument.merchant_id == merchant_id
                )
            )
        if document is None:
            raise NotFound(f"no document {document_id} for merchant {merchant_id}", param="document_id")
        return document

    @staticmethod
    async def _current_kinds(tx: AsyncSession, merchant_id: str) -> set[DocumentKind]:
        kinds = await tx.scalars(
            select(MerchantDocument.kind).where(
                MerchantDocument.merchant_id == merchant_id, MerchantDocument.superseded_at.is_(None)
            )
        )
        return {DocumentKind(k) for k in kinds}

    @staticmethod
    def _require_editable(merchant: Merchant) -> None:
        if not onboarding.is_editable(MerchantStatus(merchant.status)):
            raise Conflict(
                f"a {merchant.status} merchant cannot be edited; only draft or rejected ones can",
                code="merchant_not_editable",
            )
