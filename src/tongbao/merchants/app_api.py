"""Operator API for apps: the business systems that call the merchant API."""

from __future__ import annotations

from fastapi import APIRouter, status

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.merchants.app_service import AppService, AppWithSecret
from tongbao.merchants.pagination import PageDep, cut
from tongbao.merchants.schemas import (
    AppCreate,
    AppPublic,
    AppsPublic,
    AppUpdate,
    AppWithSecretPublic,
    RotateSecret,
)

router = APIRouter(prefix="/admin/v1/apps", tags=["admin: apps"])


def _with_secret(result: AppWithSecret) -> AppWithSecretPublic:
    public = AppPublic.model_validate(result.app).model_dump()
    return AppWithSecretPublic(
        **public, secret=result.secret, previous_secret_expires_at=result.previous_secret_expires_at
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AppWithSecretPublic)
async def create_app(body: AppCreate, c: ContainerDep, _: OperatorDep) -> object:
    fields = body.model_dump(exclude={"merchant_id"}, exclude_none=True)
    return _with_secret(await AppService(c).create(body.merchant_id, fields))


@router.get("", response_model=AppsPublic)
async def list_apps(c: ContainerDep, _: OperatorDep, page: PageDep, merchant_id: str | None = None) -> object:
    rows, more = cut(await AppService(c).list_apps(page, merchant_id), page)
    return AppsPublic(data=[AppPublic.model_validate(r) for r in rows], has_more=more)


@router.get("/{app_id}", response_model=AppPublic)
async def get_app(app_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return await AppService(c).get(app_id)


@router.patch("/{app_id}", response_model=AppPublic)
async def update_app(app_id: str, body: AppUpdate, c: ContainerDep, _: OperatorDep) -> object:
    # An explicit null clears notify_url or the RSA key; a missing field is left alone.
    return await AppService(c).update(app_id, body.model_dump(exclude_unset=True))


@router.post("/{app_id}/enable", response_model=AppPublic)
async def enable_app(app_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return await AppService(c).set_enabled(app_id, True)


@router.post("/{app_id}/disable", response_model=AppPublic)
async def disable_app(app_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return await AppService(c).set_enabled(app_id, False)


@router.post("/{app_id}/rotate-secret", response_model=AppWithSecretPublic)
async def rotate_app_secret(
    app_id: str, c: ContainerDep, _: OperatorDep, body: RotateSecret | None = None
) -> object:
    return _with_secret(await AppService(c).rotate_secret(app_id, body.overlap_seconds if body else None))
