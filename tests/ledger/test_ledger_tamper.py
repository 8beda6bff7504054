"""Tampering with the journal behind Tongbao's back is found: an edited posting by ``ledger check``
and ``ledger verify``, a deleted entry by ``ledger verify`` and by internal reconciliation."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.support.factories import ok
from tests.support.ledger import cli_json, fold_and_seal
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay


def _paid(tongbao: Stack, shop: WeChatMerchant, amount: int) -> dict[str, Any]:
    created = ok(shop.create_payment(amount=amount), 201)
    sim_pay(tongbao, out_trade_no=created["attempts"][0]["channel_order_no"])
    tongbao.wechatpay_wait()
    return created


def _capture_entry(admin: httpx.Client, payment_id: str) -> dict[str, Any]:
    [entry] = ok(admin.get("/admin/v1/ledger/entries", params={"payment_id": payment_id}))["data"]
    assert entry["kind"] == "payment_captured"
    return entry  # type: ignore[no-any-return]


def _sql(tongbao: Stack, statement: str, **params: Any) -> None:
    async def run() -> None:
        async with tongbao.container.engine.begin() as conn:
            await conn.execute(text(statement), params)

    tongbao.server.run(run())


def test_an_edited_posting_is_named_by_check_and_verify(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    payment = _paid(tongbao, shop, 2500)
    _paid(tongbao, shop, 700)
    fold_and_seal(tongbao)
    assert cli_json(tongbao, "ledger", "check")[0] == 0
    assert cli_json(tongbao, "ledger", "verify")[0] == 0
    entry = _capture_entry(admin, payment["id"])
    pending = f"merchant:{shop.merchant_id}:pending:CNY"
    _sql(
        tongbao,
        "UPDATE ledger_postings SET amount = amount - 100 WHERE entry_id = :e AND account_id = :a",
        e=entry["id"],
        a=pending,
    )
    code, report = cli_json(tongbao, "ledger", "check")
    assert code == 1
    assert f"entry {entry['id']}: its postings sum to -100, not 0" in report["problems"]
    assert any(
        p.startswith(f"account {pending}: balance 3200, its postings add up to 3300")
        for p in report["problems"]
    )
    code, verdict = cli_json(tongbao, "ledger", "verify")
    assert code == 1
    assert verdict["problems"] == [f"entry {entry['id']}: altered since it was sealed as #1"]


def test_a_deleted_entry_is_found_by_verify_and_by_internal_recon(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    first = _paid(tongbao, shop, 1500)
    payment = _paid(tongbao, shop, 900)
    fold_and_seal(tongbao)
    head = ok(admin.get("/admin/v1/ledger/chain"))["hash"]
    code, verdict = cli_json(tongbao, "ledger", "verify")
    assert (code, verdict["head"]) == (0, head)
    entry = _capture_entry(admin, payment["id"])
    _sql(tongbao, "DELETE FROM ledger_postings WHERE entry_id = :e", e=entry["id"])
    _sql(tongbao, "DELETE FROM ledger_entries WHERE id = :e", e=entry["id"])
    code, verdict = cli_json(tongbao, "ledger", "verify")
    assert code == 1
    assert verdict["problems"] == [f"entry {entry['id']}: deleted (sealed as #2)"]
    code, recon = cli_json(tongbao, "recon", "internal", "--all")
    assert code == 1
    [difference] = recon["differences"]
    assert (difference["kind"], difference["payment_id"]) == ("capture_entry_missing", payment["id"])
    listed = ok(admin.get("/admin/v1/recon/internal", params={"run_id": recon["run_id"]}))
    assert [(d["kind"], d["payment_id"]) for d in listed["data"]] == [
        ("capture_entry_missing", payment["id"])
    ]
    assert first["id"] not in {d["payment_id"] for d in listed["data"]}
    code, report = cli_json(tongbao, "ledger", "check")
    assert code == 1 and any("capture_entry_missing" in p for p in report["problems"])


def test_a_head_published_earlier_must_match(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    _paid(tongbao, shop, 1200)
    fold_and_seal(tongbao)
    head = ok(admin.get("/admin/v1/ledger/chain"))
    assert (head["block_no"], head["entries_sealed"], head["unsealed_entries"]) == (1, 1, 0)
    assert cli_json(tongbao, "ledger", "verify", "--expect", head["hash"])[0] == 0
    code, verdict = cli_json(tongbao, "ledger", "verify", "--expect", "0" * 64)
    assert code == 1 and verdict["problems"] == [
        f"the chain's head is {head['hash']}, not the {'0' * 64} expected"
    ]
