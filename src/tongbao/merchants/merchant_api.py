"""Operator API for merchants: onboarding profile, documents, review, channel bindings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.channels.kinds import Channel
from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.domain.documents import DocumentKind
from tongbao.merchants.domain.onboarding import MerchantStatus, ReviewAction
from tongbao.merchants.merchant_service import MerchantService
from tongbao.merchants.pagination import PageDep, cut
from tongbao.merchants.schemas import (
    BindingPublic,
    BindingRequest,
    DocumentPublic,
    MerchantCreate,
    MerchantEventPublic,
    MerchantPublic,
    MerchantsPublic,
    MerchantUpdate,
    ReviewRequest,
)

router = APIRouter(prefix="/admin/v1/merchants", tags=["admin: merchants"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MerchantPublic)
async def create_merchant(body: MerchantCreate, c: ContainerDep, operator: OperatorDep) -> object:
    return await MerchantService(c).create(body.model_dump(), actor=operator.name)


@router.get("", response_model=MerchantsPublic)
async def list_merchants(
    c: ContainerDep, _: OperatorDep, page: PageDep, status: MerchantStatus | None = None
) -> object:
    rows, more = cut(await MerchantService(c).list_merchants(page, status), page)
    return MerchantsPublic(data=[MerchantPublic.model_validate(r) for r in rows], has_more=more)


@router.get("/{merchant_id}", response_model=MerchantPublic)
async def get_merchant(merchant_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return await MerchantService(c).get(merchant_id)


@router.patch("/{merchant_id}", response_model=MerchantPublic)
async def update_merchant(merchant_id: str, body: MerchantUpdate, c: ContainerDep, _: OperatorDep) -> object:
    # An explicit null clears an optional field; a missing field is left alone.
    return await MerchantService(c).update(merchant_id, body.model_dump(exclude_unset=True))


def _review_route(action: ReviewAction) -> None:
    async def review(
        merchant_id: str, c: ContainerDep, operator: OperatorDep, body: ReviewRequest | None = None
    ) -> object:
        reason = body.reason if body else None
        return await MerchantService(c).transition(merchant_id, action, operator.name, reason)

    router.add_api_route(
        f"/{{merchant_id}}/{action.value}",
        review,
        methods=["POST"],
        response_model=MerchantPublic,
        name=f"{action.value}_merchant",
        summary=f"{action.value.capitalize()} a merchant",
    )


for _action in ReviewAction:
    _review_route(_action)


@router.get("/{merchant_id}/events", response_model=list[MerchantEventPublic])
async def list_merchant_events(merchant_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return await MerchantService(c).events(merchant_id)


@router.post("/{merchant_id}/documents", status_code=status.HTTP_201_CREATED, response_model=DocumentPublic)
async def upload_document(
    merchant_id: str,
    c: ContainerDep,
    operator: OperatorDep,
    kind: Annotated[DocumentKind, Form()],
    file: Annotated[UploadFile, File(description="PDF, PNG or JPEG")],
) -> object:
    content = await file.read(c.settings.document_max_bytes + 1)
    return await MerchantService(c).add_document(
        merchant_id,
        kind,
        filename=file.filename or "",
        content_type=file.content_type or "",
        content=content,
        actor=operator.name,
    )


@router.get("/{merchant_id}/documents", response_model=list[DocumentPublic])
async def list_documents(
    merchant_id: str, c: ContainerDep, _: OperatorDep, include_superseded: bool = False
) -> object:
    return await MerchantService(c).documents(merchant_id, include_superseded)


@router.get("/{merchant_id}/documents/{document_id}/content", response_class=Response)
async def download_document(merchant_id: str, document_id: str, c: ContainerDep, _: OperatorDep) -> Response:
    doc = await MerchantService(c).document(merchant_id, document_id)
    return Response(
        doc.content,
        media_type=doc.content_type,
        headers={"Content-Disposition": f'attachment; filename="{doc.id}"', "X-Content-SHA256": doc.sha256},
    )


@router.get("/{merchant_id}/channels", response_model=list[BindingPublic])
async def list_bindings(merchant_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return await ChannelAccountService(c).bindings(merchant_id)


@router.put("/{merchant_id}/channels/{channel}", response_model=BindingPublic)
async def bind_channel(
    merchant_id: str, channel: Channel, body: BindingRequest, c: ContainerDep, _: OperatorDep
) -> object:
    return await ChannelAccountService(c).bind(merchant_id, channel, body.channel_account_id)


@router.delete("/{merchant_id}/channels/{channel}", status_code=status.HTTP_204_NO_CONTENT)
async def unbind_channel(merchant_id: str, channel: Channel, c: ContainerDep, _: OperatorDep) -> Response:
    await ChannelAccountService(c).unbind(merchant_id, channel)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
