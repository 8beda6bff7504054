"""The demo: an active merchant with an app, channel accounts on every channel, and an operator.

Seeding is repeatable: a second start on the same data dir finds what is there, points the
channel accounts at the current base URL, and writes ``demo.json`` again.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select

from tongbao.channels.kinds import Channel, Method
from tongbao.container import Container
from tongbao.demo.registration import DemoSimulators, register_accounts
from tongbao.demo.sample_files import tiny_pdf, tiny_png
from tongbao.errors import Unauthorized
from tongbao.ledger.models import FeePlan
from tongbao.ledger.plan_service import PlanService
from tongbao.merchants.app_service import AppService, Caller
from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.merchants.domain.documents import DocumentKind
from tongbao.merchants.domain.onboarding import ReviewAction
from tongbao.merchants.merchant_service import MerchantService
from tongbao.merchants.models import App, ChannelAccount, Merchant
from tongbao.payments.schemas import PaymentCreate
from tongbao.payments.service import PaymentService
from tongbao.security import samples
from tongbao.security.operators import OperatorService

DEMO_MERCHANT = "Demo Coffee"
DEMO_APP = "Demo Shop"
DEMO_OPERATOR = "demo-admin"
SEEDER = "demo-seed"


@dataclass(frozen=True)
class DemoState:
    base_url: str
    app_id: str
    app_secret: str
    merchant_id: str
    admin_token: str
    cashier_url: str = ""


def _account_names() -> dict[Channel, str]:
    return {channel: f"Demo {channel.value}" for channel in Channel}


def previous_admin_token(demo_file: Path) -> str | None:
    if not demo_file.exists():
        return None
    token = json.loads(demo_file.read_text()).get("admin_token")
    return token if isinstance(token, str) else None


def write_demo_file(demo_file: Path, state: DemoState) -> None:
    demo_file.write_text(json.dumps(asdict(state), indent=2) + "\n")
    demo_file.chmod(0o600)


async def seed_demo(
    c: Container, base_url: str, previous_token: str | None, simulators: DemoSimulators | None = None
) -> DemoState:
    async with c.uow() as tx:
        merchant = await tx.scalar(select(Merchant).where(Merchant.name == DEMO_MERCHANT))
    if merchant is None:
        merchant = await create_active_merchant(c, DEMO_MERCHANT, SEEDER)
    async with c.uow() as tx:
        app = await tx.scalar(select(App).where(App.merchant_id == merchant.id, App.name == DEMO_APP))
    notify_url = f"{base_url}/demo/notify"
    if app is None:
        app = (await AppService(c).create(merchant.id, {"name": DEMO_APP, "notify_url": notify_url})).app
    elif app.notify_url != notify_url:
        await AppService(c).update(app.id, {"notify_url": notify_url})
    caller = await AppService(c).caller(app.id)
    assert caller is not None and caller.secrets
    roots = {channel: f"{base_url}/sim/{channel.value}" for channel in Channel}
    # UnionPay is the merchant's own account here, the others the platform's shared ones, so the
    # demo shows both modes.
    await ensure_channel_accounts(c, merchant.id, roots, _account_names(), own={Channel.UNIONPAY})
    await _default_fee_plans(c)
    cashier_url = ""
    if simulators is not None:
        await register_accounts(c, simulators.registrars(), _account_names())
        await enable_methods(c, merchant.id, [m.value for m in Method])
        caller = await AppService(c).caller(app.id)
        assert caller is not None
        cashier_url = await _sample_payment(c, caller)
    return DemoState(
        base_url=base_url,
        app_id=app.id,
        app_secret=caller.secrets[0],
        merchant_id=merchant.id,
        admin_token=await _admin_token(c, previous_token),
        cashier_url=cashier_url,
    )


# The platform's default fees in the demo, in basis points: 0.6% on WeChat Pay and Alipay, 0.5% on
# UnionPay, a 1 fen minimum — so that the demo's balance shows fees.
DEMO_FEES_BPS = {Channel.WECHATPAY: "60", Channel.ALIPAY: "60", Channel.UNIONPAY: "50"}


async def _default_fee_plans(c: Container) -> None:
    async with c.uow() as tx:
        if await tx.scalar(select(FeePlan.id).limit(1)) is not None:
            return
    plans = PlanService(c)
    for method in Method:
        body = {"merchant_id": None, "method": method.value, "rate_bps": DEMO_FEES_BPS[method.channel],
                "minimum": 1, "cap": None, "refund_mode": "proportional", "effective_from": None,
                "effective_to": None}  # fmt: skip
        await plans.create_fee_plan(SEEDER, body)


async def enable_methods(c: Container, merchant_id: str, methods: list[str]) -> None:
    async with c.uow() as tx:
        merchant = await tx.get(Merchant, merchant_id, with_for_update=True)
        assert merchant is not None
        merchant.enabled_methods = methods
        await tx.commit()


async def _sample_payment(c: Container, caller: Caller) -> str:
    """A fresh cashier payment at every start, so the printed link always works."""
    body = PaymentCreate(
        out_trade_no=f"demo-{secrets.token_hex(6)}",
        amount=1800,
        subject="拿铁 Latte (demo)",
        expire_in_seconds=7200,
    )
    payment_id, _ = await PaymentService(c).create(caller, body)
    return PaymentService(c).cashier_url(payment_id)


async def create_active_merchant(c: Container, name: str, actor: str) -> Merchant:
    """A merchant with its documents, reviewed and active, as an operator would leave it."""
    service = MerchantService(c)
    merchant = await service.create(
        {
            "name": name,
            "legal_name": "演示咖啡（上海）有限公司",
            "business_license_no": "91310000MA1DEMO001",
            "contact_name": "Demo Owner",
            "contact_email": "owner@demo-coffee.example",
            "contact_phone": "+86 21 5555 0100",
        },
        actor=actor,
    )
    files = {
        DocumentKind.BUSINESS_LICENSE: ("business-licence.pdf", "application/pdf", tiny_pdf("营业执照")),
        DocumentKind.LEGAL_PERSON_ID: ("legal-person-id.png", "image/png", tiny_png(b"id")),
        DocumentKind.SETTLEMENT_ACCOUNT_PROOF: (
            "bank-account.pdf",
            "application/pdf",
            tiny_pdf("开户许可证"),
        ),
    }
    for kind, (filename, content_type, content) in files.items():
        await service.add_document(
            merchant.id, kind, filename=filename, content_type=content_type, content=content, actor=actor
        )
    for action in (ReviewAction.SUBMIT, ReviewAction.APPROVE, ReviewAction.ACTIVATE):
        merchant = await service.transition(merchant.id, action, actor, "seeded merchant")
    return merchant


async def ensure_channel_accounts(
    c: Container,
    merchant_id: str,
    simulator_roots: Mapping[Channel, str],
    names: Mapping[Channel, str],
    own: Collection[Channel],
) -> None:
    """One account per channel at its simulator (found by name, else made), bound to the merchant."""
    service = ChannelAccountService(c)
    for channel, root in simulator_roots.items():
        name = names[channel]
        url = root + ("/gateway.do" if channel is Channel.ALIPAY else "")
        async with c.uow() as tx:
            account = await tx.scalar(select(ChannelAccount).where(ChannelAccount.name == name))
        if account is None:
            mode = AccountMode.OWN if channel in own else AccountMode.SHARED
            config, credentials = _sample_settings(channel)
            account = await service.create(
                name=name,
                channel=channel,
                mode=mode,
                merchant_id=merchant_id if mode is AccountMode.OWN else None,
                base_url=url,
                config=config,
                credentials=credentials,
            )
        elif account.base_url != url:
            await service.update(account.id, {"base_url": url})
        await service.bind(merchant_id, channel, account.id)


def _sample_settings(channel: Channel) -> tuple[dict[str, str], dict[str, str]]:
    """Freshly made keys: the simulators accept any registered key, real channels none of these."""
    ours, theirs = samples.new_rsa_key(), samples.new_rsa_key()
    if channel is Channel.WECHATPAY:
        return (
            {
                "mchid": "1900000109",
                "appid": "wxd678efh567hg6787",
                "merchant_serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
                "platform_public_key_id": "PUB_KEY_ID_0119000001092025",
                "platform_public_key_pem": samples.public_pem(theirs),
            },
            {"private_key_pem": samples.private_pem(ours), "apiv3_key": secrets.token_hex(16)},
        )
    if channel is Channel.ALIPAY:
        return (
            {"app_id": "2021000000000001", "alipay_public_key_pem": samples.public_pem(theirs)},
            {"app_private_key_pem": samples.private_pem(ours)},
        )
    return (
        {
            "mer_id": "777290058110048",
            "unionpay_certificate_pem": samples.self_signed_certificate(theirs, "UnionPay simulator"),
        },
        {
            "signing_private_key_pem": samples.private_pem(ours),
            "signing_certificate_pem": samples.self_signed_certificate(ours, "777290058110048"),
        },
    )


async def _admin_token(c: Container, previous: str | None) -> str:
    operators = OperatorService(c)
    if previous:
        try:
            await operators.authenticate(previous)
            return previous
        except Unauthorized:
            pass
    return (await operators.reissue(DEMO_OPERATOR)).token
