"""``GET /v1/me``: the simplest signed call — who is calling, for which merchant."""

from __future__ import annotations

from fastapi import APIRouter

from tongbao.api.deps import CallerDep
from tongbao.merchants.domain.onboarding import MerchantStatus, can_take_payments
from tongbao.merchants.schemas import MeApp, MeMerchant, MePublic
from tongbao.security.signing import HMAC_SCHEME, RSA_SCHEME

router = APIRouter(prefix="/v1", tags=["merchant API"])


@router.get("/me", response_model=MePublic)
async def get_me(caller: CallerDep) -> MePublic:
    app, merchant = caller.app, caller.merchant
    schemes = [HMAC_SCHEME] + ([RSA_SCHEME] if app.rsa_public_key_pem else [])
    return MePublic(
        app=MeApp(
            id=app.id,
            name=app.name,
            notify_url=app.notify_url,
            ip_allowlist=app.ip_allowlist,
            signing_schemes=schemes,
        ),
        merchant=MeMerchant(
            id=merchant.id,
            name=merchant.name,
            legal_name=merchant.legal_name,
            status=MerchantStatus(merchant.status),
            can_take_payments=can_take_payments(MerchantStatus(merchant.status)),
        ),
    )
