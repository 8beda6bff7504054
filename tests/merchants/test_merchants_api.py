"""Merchant onboarding through the operator API: profile, documents, review workflow, history.

Every refusal is checked twice: the answer the operator sees, and that nothing changed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import httpx
import pytest

from tongbao.ids import new_id

from ..support.factories import (
    DOCUMENTS,
    active_merchant,
    create_merchant,
    error_of,
    ok,
    sample_file,
    upload_documents,
)
from ..support.stack import ADMIN_NAME, Stack

BASE = "/admin/v1/merchants"
MIB = 1_048_576
ACTIONS = ("submit", "approve", "reject", "activate", "suspend", "reinstate")
# What the review workflow allows from each status, written out independently of the code.
LEGAL = {
    "draft": {"submit": "submitted"},
    "submitted": {"approve": "approved", "reject": "rejected"},
    "rejected": {"submit": "submitted"},
    "approved": {"activate": "active"},
    "active": {"suspend": "suspended"},
    "suspended": {"reinstate": "active"},
}
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"
)
PDF = sample_file("application/pdf", "a licence")
PNG = sample_file("image/png", "an identity card")


# --- helpers -------------------------------------------------------------------------------------


def merchants_of(admin: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return ok(admin.get(BASE, params=params))["data"]  # type: ignore[no-any-return]


def merchant(admin: httpx.Client, merchant_id: str) -> dict[str, Any]:
    return ok(admin.get(f"{BASE}/{merchant_id}"))  # type: ignore[no-any-return]


def events_of(admin: httpx.Client, merchant_id: str) -> list[dict[str, Any]]:
    return ok(admin.get(f"{BASE}/{merchant_id}/events"))  # type: ignore[no-any-return]


def documents_of(
    admin: httpx.Client, merchant_id: str, *, include_superseded: bool = False
) -> list[dict[str, Any]]:
    params = {"include_superseded": "true"} if include_superseded else {}
    return ok(admin.get(f"{BASE}/{merchant_id}/documents", params=params))  # type: ignore[no-any-return]


def act(admin: httpx.Client, merchant_id: str, action: str, reason: str | None = None) -> httpx.Response:
    body = {"reason": reason} if reason is not None else None
    return admin.post(f"{BASE}/{merchant_id}/{action}", json=body)


def upload(
    admin: httpx.Client,
    merchant_id: str,
    kind: str,
    content: bytes,
    content_type: str = "application/pdf",
    filename: str = "scan.pdf",
) -> httpx.Response:
    files = {"file": (filename, content, content_type)}
    return admin.post(f"{BASE}/{merchant_id}/documents", data={"kind": kind}, files=files)


def download(admin: httpx.Client, merchant_id: str, document_id: str) -> httpx.Response:
    return admin.get(f"{BASE}/{merchant_id}/documents/{document_id}/content")


def snapshot(admin: httpx.Client, merchant_id: str) -> dict[str, Any]:
    """Everything an operator can see of one merchant."""
    return {
        "merchant": merchant(admin, merchant_id),
        "events": events_of(admin, merchant_id),
        "documents": documents_of(admin, merchant_id, include_superseded=True),
    }


def merchant_in(admin: httpx.Client, status: str) -> dict[str, Any]:
    """A merchant brought to ``status`` the way an operator would."""
    m = create_merchant(admin)
    if status == "draft":
        return m
    upload_documents(admin, m["id"])
    m = ok(act(admin, m["id"], "submit"))
    path = {
        "submitted": [],
        "rejected": [("reject", "the licence scan is blurry")],
        "approved": [("approve", None)],
        "active": [("approve", None), ("activate", None)],
        "suspended": [("approve", None), ("activate", None), ("suspend", "chargebacks")],
    }[status]
    for action, reason in path:
        m = ok(act(admin, m["id"], action, reason))
    assert m["status"] == status
    return m


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- profile ---------------------------------------------------------------------------------------


def test_create_then_get_and_list(admin: httpx.Client) -> None:
    body = {
        "name": "  Harbour Tea  ",
        "legal_name": "Harbour Tea Trading Co., Ltd.",
        "business_license_no": "91310000MA1K4XXX7L",
        "contact_name": "Li Wei",
        "contact_email": "liwei@harbour.example",
        "contact_phone": "+86 138-0000-0000",
    }
    created = ok(admin.post(BASE, json=body), 201)
    assert created["id"].startswith("mch_")
    assert created["name"] == "Harbour Tea"  # surrounding spaces dropped
    assert {k: created[k] for k in body if k != "name"} == {k: v for k, v in body.items() if k != "name"}
    assert created["status"] == "draft" and created["status_reason"] is None
    assert at(created["created_at"]) == at(created["updated_at"])

    assert merchant(admin, created["id"]) == created
    assert ok(admin.get(BASE)) == {"data": [created], "has_more": False}
    (event,) = events_of(admin, created["id"])
    assert (event["action"], event["from_status"], event["to_status"]) == ("create", "", "draft")
    assert event["actor"] == ADMIN_NAME and at(event["created_at"]) == at(created["created_at"])
    assert documents_of(admin, created["id"]) == []


def test_optional_fields_default_to_null(admin: httpx.Client) -> None:
    created = ok(admin.post(BASE, json={"name": "Bare", "legal_name": "Bare Ltd."}), 201)
    for field in ("business_license_no", "contact_name", "contact_email", "contact_phone"):
        assert created[field] is None
    assert merchant(admin, created["id"]) == created


def test_list_pages_in_creation_order(admin: httpx.Client) -> None:
    made = [create_merchant(admin)["id"] for _ in range(5)]
    first = ok(admin.get(BASE, params={"limit": 2}))
    assert [m["id"] for m in first["data"]] == made[:2] and first["has_more"] is True
    second = ok(admin.get(BASE, params={"limit": 2, "starting_after": made[1]}))
    assert [m["id"] for m in second["data"]] == made[2:4] and second["has_more"] is True
    last = ok(admin.get(BASE, params={"limit": 2, "starting_after": made[3]}))
    assert [m["id"] for m in last["data"]] == made[4:] and last["has_more"] is False
    exact = ok(admin.get(BASE, params={"limit": 5}))
    assert [m["id"] for m in exact["data"]] == made and exact["has_more"] is False
    assert ok(admin.get(BASE, params={"starting_after": made[4]})) == {"data": [], "has_more": False}


def test_list_filters_by_status(admin: httpx.Client) -> None:
    drafts = [create_merchant(admin)["id"] for _ in range(2)]
    active = active_merchant(admin)["id"]
    submitted = merchant_in(admin, "submitted")["id"]
    assert [m["id"] for m in merchants_of(admin, status="draft")] == drafts
    assert [m["id"] for m in merchants_of(admin, status="active")] == [active]
    assert [m["id"] for m in merchants_of(admin, status="submitted")] == [submitted]
    assert merchants_of(admin, status="suspended") == []
    page = ok(admin.get(BASE, params={"status": "draft", "limit": 1}))
    assert [m["id"] for m in page["data"]] == drafts[:1] and page["has_more"] is True


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"status": "dormant"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"starting_after": "x" * 41}, "starting_after"),
    ],
)
def test_bad_list_parameters(admin: httpx.Client, params: dict[str, Any], param: str) -> None:
    create_merchant(admin)
    error = error_of(admin.get(BASE, params=params), 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", param)


def test_duplicate_names_are_refused(admin: httpx.Client) -> None:
    acme = create_merchant(admin, name="Acme")
    for name in ("Acme", "  Acme "):
        error = error_of(admin.post(BASE, json={"name": name, "legal_name": "Another Acme Ltd."}), 409)
        assert (error["code"], error["param"]) == ("name_taken", "name")
    assert merchants_of(admin) == [acme]

    other = create_merchant(admin, name="Bolt")
    before = snapshot(admin, other["id"])
    renamed = admin.patch(f"{BASE}/{other['id']}", json={"name": "Acme", "contact_name": "Zhang San"})
    error = error_of(renamed, 409)
    assert (error["code"], error["param"]) == ("name_taken", "name")
    assert snapshot(admin, other["id"]) == before  # not even the other field changed
    assert merchant(admin, acme["id"]) == acme

    # Keeping one's own name is not a clash; a free name is taken at once.
    assert ok(admin.patch(f"{BASE}/{other['id']}", json={"name": "Bolt"}))["name"] == "Bolt"
    assert ok(admin.patch(f"{BASE}/{other['id']}", json={"name": "Bolt 2"}))["name"] == "Bolt 2"
    assert ok(admin.post(BASE, json={"name": "Bolt", "legal_name": "Bolt Ltd."}), 201)["name"] == "Bolt"


BAD_FIELDS = [
    ({"name": ""}, "name", "parameter_invalid"),
    ({"name": "   "}, "name", "parameter_invalid"),
    ({"name": "n" * 101}, "name", "parameter_invalid"),
    ({"name": 42}, "name", "parameter_invalid"),
    ({"legal_name": ""}, "legal_name", "parameter_invalid"),
    ({"legal_name": "l" * 201}, "legal_name", "parameter_invalid"),
    ({"contact_email": "not-an-email"}, "contact_email", "parameter_invalid"),
    ({"contact_email": "a@b"}, "contact_email", "parameter_invalid"),
    ({"contact_email": "two words@x.example"}, "contact_email", "parameter_invalid"),
    ({"business_license_no": "12345"}, "business_license_no", "parameter_invalid"),
    ({"business_license_no": "91310000ma1k4xxx7l"}, "business_license_no", "parameter_invalid"),
    ({"business_license_no": "91310000-MA1K4XXX7"}, "business_license_no", "parameter_invalid"),
    ({"business_license_no": "9" * 21}, "business_license_no", "parameter_invalid"),
    ({"contact_phone": "call me"}, "contact_phone", "parameter_invalid"),
    ({"contact_phone": "123"}, "contact_phone", "parameter_invalid"),
    # PostgreSQL cannot store NUL; it used to be accepted and then fail there with a 500.
    ({"name": "Acme\u0000"}, "name", "parameter_invalid"),
    ({"legal_name": "Acme\u0000 Ltd."}, "legal_name", "parameter_invalid"),
    ({"contact_name": "Li\u0000"}, "contact_name", "parameter_invalid"),
    ({"contact_email": "li\u0000@shop.example"}, "contact_email", "parameter_invalid"),
    ({"status": "active"}, "status", "parameter_unknown"),
    ({"website": "https://shop.example"}, "website", "parameter_unknown"),
]


BAD_FIELD_IDS = [f"{param}={next(iter(fields.values()))!r}"[:40] for fields, param, _ in BAD_FIELDS]


@pytest.mark.parametrize(("fields", "param", "code"), BAD_FIELDS, ids=BAD_FIELD_IDS)
def test_bad_create_input_creates_nothing(
    admin: httpx.Client, fields: dict[str, Any], param: str, code: str
) -> None:
    body = {"name": "Good Name", "legal_name": "Good Name Ltd.", **fields}
    error = error_of(admin.post(BASE, json=body), 400)
    assert (error["code"], error["param"]) == (code, param)
    assert param in error["message"]
    assert merchants_of(admin) == []


@pytest.mark.parametrize(
    ("body", "param"),
    [({"legal_name": "No Name Ltd."}, "name"), ({"name": "No Legal Name"}, "legal_name")],
)
def test_missing_required_fields_create_nothing(
    admin: httpx.Client, body: dict[str, str], param: str
) -> None:
    error = error_of(admin.post(BASE, json=body), 400)
    assert (error["code"], error["param"]) == ("parameter_missing", param)
    assert merchants_of(admin) == []


def test_a_body_that_is_not_json_creates_nothing(admin: httpx.Client) -> None:
    response = admin.post(BASE, content=b"{name: Acme", headers={"Content-Type": "application/json"})
    assert error_of(response, 400)["code"] == "body_invalid_json"
    assert merchants_of(admin) == []


@pytest.mark.parametrize(("fields", "param", "code"), BAD_FIELDS, ids=BAD_FIELD_IDS)
def test_bad_update_input_changes_nothing(
    admin: httpx.Client, fields: dict[str, Any], param: str, code: str
) -> None:
    m = create_merchant(admin, contact_email="ops@shop.example")
    before = snapshot(admin, m["id"])
    error = error_of(admin.patch(f"{BASE}/{m['id']}", json={"contact_name": "Wang Fang", **fields}), 400)
    assert (error["code"], error["param"]) == (code, param)
    assert snapshot(admin, m["id"]) == before


def test_update_changes_only_what_is_sent(tongbao: Stack, admin: httpx.Client) -> None:
    m = create_merchant(admin, contact_email="ops@shop.example", contact_phone="021-5555-0000")
    tongbao.clock.advance(60)
    updated = ok(
        admin.patch(
            f"{BASE}/{m['id']}",
            json={"legal_name": " Renamed Holdings Ltd. ", "business_license_no": "91110000600037341L"},
        )
    )
    assert updated["legal_name"] == "Renamed Holdings Ltd."
    assert updated["business_license_no"] == "91110000600037341L"
    unchanged = ("id", "name", "contact_email", "contact_phone", "status", "created_at")
    assert {k: updated[k] for k in unchanged} == {k: m[k] for k in unchanged}
    assert (at(updated["updated_at"]) - at(m["updated_at"])).total_seconds() >= 60
    assert merchant(admin, m["id"]) == updated
    assert [e["action"] for e in events_of(admin, m["id"])] == ["create"]  # edits are not transitions


# --- the review workflow ---------------------------------------------------------------------------


def test_the_whole_workflow_is_recorded_with_who_and_when(tongbao: Stack, admin: httpx.Client) -> None:
    m = create_merchant(admin)
    upload_documents(admin, m["id"])
    steps = [
        ("submit", None, "submitted"),
        ("approve", "all documents in order", "approved"),
        ("activate", None, "active"),
        ("suspend", "  unusual refund rate  ", "suspended"),
        ("reinstate", None, "active"),
        ("suspend", "chargebacks", "suspended"),
        ("reinstate", "resolved", "active"),
    ]
    windows = []
    status = "draft"
    for action, reason, expected in steps:
        tongbao.clock.advance(3600)  # an hour between steps, so each time is told apart
        before = tongbao.clock.now()
        answered = ok(act(admin, m["id"], action, reason))
        windows.append((before, tongbao.clock.now()))
        assert answered["status"] == expected
        assert answered["status_reason"] == (reason.strip() if reason else None)
        assert merchant(admin, m["id"]) == answered
        status = expected

    final = merchant(admin, m["id"])
    assert final["status"] == status == "active" and final["created_at"] == m["created_at"]
    create, *events = events_of(admin, m["id"])
    assert create["action"] == "create"
    assert len(events) == len(steps)
    from_status = "draft"
    for event, (action, reason, to_status), (earliest, latest) in zip(events, steps, windows, strict=True):
        assert event["id"].startswith("mev_")
        assert (event["action"], event["from_status"], event["to_status"]) == (action, from_status, to_status)
        assert event["actor"] == ADMIN_NAME
        assert event["reason"] == (reason.strip() if reason else None)
        assert earliest <= at(event["created_at"]) <= latest
        from_status = to_status
    assert at(final["updated_at"]) == at(events[-1]["created_at"])


def test_rejection_then_fix_then_resubmission(tongbao: Stack, admin: httpx.Client) -> None:
    m = merchant_in(admin, "submitted")
    rejected = ok(act(admin, m["id"], "reject", "the licence scan is blurry"))
    assert (rejected["status"], rejected["status_reason"]) == ("rejected", "the licence scan is blurry")

    # A rejected merchant may be edited and its documents replaced.
    fixed = ok(admin.patch(f"{BASE}/{m['id']}", json={"legal_name": "Fixed Name Ltd."}))
    assert (fixed["legal_name"], fixed["status"]) == ("Fixed Name Ltd.", "rejected")
    sharper = sample_file("application/pdf", "a sharper scan")
    new_licence = ok(upload(admin, m["id"], "business_license", sharper), 201)

    resubmitted = ok(act(admin, m["id"], "submit"))
    assert (resubmitted["status"], resubmitted["status_reason"]) == ("submitted", None)
    assert resubmitted["legal_name"] == "Fixed Name Ltd."
    current = {d["kind"]: d["id"] for d in documents_of(admin, m["id"])}
    assert current["business_license"] == new_licence["id"] and len(current) == 3
    transitions = [
        (e["action"], e["from_status"], e["to_status"], e["reason"]) for e in events_of(admin, m["id"])
    ]
    assert transitions == [
        ("create", "", "draft", None),
        ("submit", "draft", "submitted", None),
        ("reject", "submitted", "rejected", "the licence scan is blurry"),
        ("submit", "rejected", "submitted", None),
    ]
    assert ok(act(admin, m["id"], "approve"))["status"] == "approved"


@pytest.mark.parametrize("status", sorted(LEGAL))
def test_illegal_transitions_conflict_and_change_nothing(admin: httpx.Client, status: str) -> None:
    m = merchant_in(admin, status)
    before = snapshot(admin, m["id"])
    for action in sorted(set(ACTIONS) - set(LEGAL[status])):
        error = error_of(act(admin, m["id"], action, "a reason, so that only the status is wrong"), 409)
        assert (error["code"], error["param"]) == ("transition_invalid", "action")
        assert action in error["message"] and status in error["message"]
    assert snapshot(admin, m["id"]) == before


@pytest.mark.parametrize(("status", "action"), [("submitted", "reject"), ("active", "suspend")])
@pytest.mark.parametrize("body", [None, {}, {"reason": None}, {"reason": ""}, {"reason": "   \t "}])
def test_reject_and_suspend_need_a_reason(
    admin: httpx.Client, status: str, action: str, body: dict[str, Any] | None
) -> None:
    m = merchant_in(admin, status)
    before = snapshot(admin, m["id"])
    error = error_of(admin.post(f"{BASE}/{m['id']}/{action}", json=body), 400)
    assert (error["code"], error["param"]) == ("parameter_missing", "reason")
    assert snapshot(admin, m["id"]) == before


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"reason": "r" * 501}, "reason", "parameter_invalid"),
        ({"reason": 7}, "reason", "parameter_invalid"),
        ({"reason": "blurry\u0000scan"}, "reason", "parameter_invalid"),
        ({"reason": "fine", "severity": "high"}, "severity", "parameter_unknown"),
    ],
)
def test_bad_review_bodies_change_nothing(
    admin: httpx.Client, body: dict[str, Any], param: str, code: str
) -> None:
    m = merchant_in(admin, "submitted")
    before = snapshot(admin, m["id"])
    for action in ("approve", "reject"):
        error = error_of(admin.post(f"{BASE}/{m['id']}/{action}", json=body), 400)
        assert (error["code"], error["param"]) == (code, param)
    assert snapshot(admin, m["id"]) == before


def test_a_reason_of_the_longest_length_is_kept(admin: httpx.Client) -> None:
    m = merchant_in(admin, "submitted")
    reason = "理由" * 250  # 500 characters, not all ASCII
    assert ok(act(admin, m["id"], "reject", reason))["status_reason"] == reason
    assert events_of(admin, m["id"])[-1]["reason"] == reason


def test_submit_needs_every_document(admin: httpx.Client) -> None:
    m = create_merchant(admin)
    before = snapshot(admin, m["id"])
    error = error_of(act(admin, m["id"], "submit"), 409)
    assert (error["code"], error["param"]) == ("documents_missing", "documents")
    for kind in DOCUMENTS:
        assert kind in error["message"]
    assert snapshot(admin, m["id"]) == before

    ok(upload(admin, m["id"], "business_license", PDF), 201)
    ok(upload(admin, m["id"], "legal_person_id", PNG, "image/png", "id.png"), 201)
    before = snapshot(admin, m["id"])
    error = error_of(act(admin, m["id"], "submit"), 409)
    assert error["code"] == "documents_missing"
    assert "settlement_account_proof" in error["message"] and "business_license" not in error["message"]
    assert snapshot(admin, m["id"]) == before

    ok(upload(admin, m["id"], "settlement_account_proof", JPEG, "image/jpeg", "bank.jpg"), 201)
    assert ok(act(admin, m["id"], "submit"))["status"] == "submitted"


@pytest.mark.parametrize("status", ["submitted", "approved", "active", "suspended"])
def test_nothing_can_be_edited_once_submitted(admin: httpx.Client, status: str) -> None:
    m = merchant_in(admin, status)
    before = snapshot(admin, m["id"])
    error = error_of(admin.patch(f"{BASE}/{m['id']}", json={"contact_name": "Someone Else"}), 409)
    assert error["code"] == "merchant_not_editable" and status in error["message"]
    for kind in DOCUMENTS:
        error = error_of(upload(admin, m["id"], kind, sample_file("application/pdf", "late")), 409)
        assert error["code"] == "merchant_not_editable"
    assert snapshot(admin, m["id"]) == before


# --- documents -----------------------------------------------------------------------------------------


def test_upload_each_kind_then_download_it(admin: httpx.Client) -> None:
    m = create_merchant(admin)
    files = {
        "business_license": (PDF, "application/pdf", "licence.pdf"),
        "legal_person_id": (PNG, "image/png", "id-card.png"),
        "settlement_account_proof": (JPEG, "image/jpeg", "bank.jpeg"),
    }
    uploaded = {}
    for kind, (content, content_type, filename) in files.items():
        doc = ok(upload(admin, m["id"], kind, content, content_type, filename), 201)
        assert doc["id"].startswith("doc_") and doc["merchant_id"] == m["id"]
        assert (doc["kind"], doc["filename"], doc["content_type"]) == (kind, filename, content_type)
        assert doc["size_bytes"] == len(content)
        assert doc["sha256"] == hashlib.sha256(content).hexdigest()
        assert doc["uploaded_by"] == ADMIN_NAME and doc["superseded_at"] is None
        uploaded[kind] = doc

    assert documents_of(admin, m["id"]) == list(uploaded.values())
    for kind, (content, content_type, _) in files.items():
        response = download(admin, m["id"], uploaded[kind]["id"])
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-type"].split(";")[0] == content_type
        assert response.headers["x-content-sha256"] == hashlib.sha256(content).hexdigest()
        assert uploaded[kind]["id"] in response.headers["content-disposition"]


@pytest.mark.parametrize(
    ("filename", "kept"),
    [
        ("C:\\Users\\li\\Scans\\licence.pdf", "licence.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("  spaced.pdf  ", "spaced.pdf"),
        ("x" * 300 + ".pdf", "x" * 200),
    ],
)
def test_stored_filenames_lose_their_directories(admin: httpx.Client, filename: str, kept: str) -> None:
    m = create_merchant(admin)
    doc = ok(upload(admin, m["id"], "business_license", PDF, filename=filename), 201)
    assert doc["filename"] == kept
    assert documents_of(admin, m["id"])[0]["filename"] == kept


def test_a_nul_in_a_filename_is_dropped(admin: httpx.Client) -> None:
    # httpx would percent-encode the NUL; a hand-made multipart body carries it raw.
    m = create_merchant(admin)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nbusiness_license\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="lic\x00ence.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    doc = ok(admin.post(f"{BASE}/{m['id']}/documents", content=body, headers=headers), 201)
    assert doc["filename"] == "licence.pdf"
    assert documents_of(admin, m["id"]) == [doc]
    assert download(admin, m["id"], doc["id"]).content == PDF


def test_declared_type_parameters_and_case_are_ignored(admin: httpx.Client) -> None:
    m = create_merchant(admin)
    doc = ok(upload(admin, m["id"], "business_license", PDF, "Application/PDF; charset=binary"), 201)
    assert doc["content_type"] == "application/pdf"


def test_a_new_upload_supersedes_the_old_one(tongbao: Stack, admin: httpx.Client) -> None:
    m = create_merchant(admin)
    old = ok(upload(admin, m["id"], "business_license", PDF), 201)
    other = ok(upload(admin, m["id"], "legal_person_id", PNG, "image/png", "id.png"), 201)
    tongbao.clock.advance(120)
    newer_bytes = sample_file("application/pdf", "the renewed licence")
    new = ok(upload(admin, m["id"], "business_license", newer_bytes, filename="renewed.pdf"), 201)
    assert new["id"] != old["id"] and new["sha256"] == hashlib.sha256(newer_bytes).hexdigest()

    assert documents_of(admin, m["id"]) == [other, new]
    everything = documents_of(admin, m["id"], include_superseded=True)
    assert [d["id"] for d in everything] == [old["id"], other["id"], new["id"]]
    replaced = everything[0]
    assert replaced["superseded_at"] is not None
    assert at(replaced["superseded_at"]) == at(new["created_at"])
    assert {k: v for k, v in replaced.items() if k != "superseded_at"} == {
        k: v for k, v in old.items() if k != "superseded_at"
    }
    # The replaced file stays on record, byte for byte.
    kept = download(admin, m["id"], old["id"])
    assert kept.content == PDF and kept.headers["x-content-sha256"] == old["sha256"]
    assert download(admin, m["id"], new["id"]).content == newer_bytes


def test_a_file_of_exactly_the_limit_is_accepted(tongbao: Stack, admin: httpx.Client) -> None:
    limit = tongbao.container.settings.document_max_bytes
    assert limit == 5 * MIB
    content = b"%PDF-1.7\n" + b"\x00" * (limit - 9)
    m = create_merchant(admin)
    doc = ok(upload(admin, m["id"], "business_license", content), 201)
    assert doc["size_bytes"] == limit == len(content)
    assert doc["sha256"] == hashlib.sha256(content).hexdigest()
    fetched = download(admin, m["id"], doc["id"])
    assert fetched.content == content and fetched.headers["x-content-sha256"] == doc["sha256"]


BAD_FILES = {
    # id: (kind, content, declared type, status, code, param)
    "one byte over the limit": (
        "business_license",
        b"%PDF-1.4\n" + b"0" * (5 * MIB - 8),
        "application/pdf",
        413,
        "document_too_large",
        "file",
    ),
    "text": (
        "business_license",
        b"just some words\n",
        "text/plain",
        415,
        "document_type_unsupported",
        "file",
    ),
    "pdf declared as text": ("business_license", PDF, "text/plain", 415, "document_type_unsupported", "file"),
    "png declared as pdf": (
        "business_license",
        PNG,
        "application/pdf",
        415,
        "document_type_unsupported",
        "file",
    ),
    "pdf declared as png": ("legal_person_id", PDF, "image/png", 415, "document_type_unsupported", "file"),
    "jpeg declared as png": ("legal_person_id", JPEG, "image/png", 415, "document_type_unsupported", "file"),
    "gif": (
        "legal_person_id",
        b"GIF89a\x01\x00\x01\x00",
        "image/gif",
        415,
        "document_type_unsupported",
        "file",
    ),
    "garbage declared as png": (
        "legal_person_id",
        b"not really a png",
        "image/png",
        415,
        "document_type_unsupported",
        "file",
    ),
    "empty": ("business_license", b"", "application/pdf", 400, "document_empty", "file"),
    "unknown kind": ("articles_of_association", PDF, "application/pdf", 400, "parameter_invalid", "kind"),
    "blank kind": ("", PDF, "application/pdf", 400, "parameter_missing", "kind"),
}


@pytest.mark.parametrize(
    ("kind", "content", "content_type", "status", "code", "param"),
    list(BAD_FILES.values()),
    ids=list(BAD_FILES),
)
def test_bad_documents_change_nothing(
    admin: httpx.Client, kind: str, content: bytes, content_type: str, status: int, code: str, param: str
) -> None:
    m = create_merchant(admin)
    ok(upload(admin, m["id"], "business_license", PDF), 201)  # what a bad upload must not replace
    ok(upload(admin, m["id"], "legal_person_id", PNG, "image/png", "id.png"), 201)
    before = snapshot(admin, m["id"])
    error = error_of(upload(admin, m["id"], kind, content, content_type), status)
    assert (error["code"], error["param"]) == (code, param)
    assert snapshot(admin, m["id"]) == before


def test_oversized_file_is_just_over_the_limit() -> None:
    # The table above means "one byte too many": keep it honest.
    too_large = BAD_FILES["one byte over the limit"]
    assert len(too_large[1]) == 5 * MIB + 1 and too_large[1].startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("data", "files", "param"),
    [
        ({"kind": "business_license"}, None, "file"),
        ({}, {"file": ("scan.pdf", PDF, "application/pdf")}, "kind"),
    ],
)
def test_uploads_missing_a_part_change_nothing(
    admin: httpx.Client, data: dict[str, str], files: dict[str, Any] | None, param: str
) -> None:
    m = create_merchant(admin)
    before = snapshot(admin, m["id"])
    # Without a file httpx would send a urlencoded form; send a multipart one as a browser would.
    files = files or {"unrelated": ("x.txt", b"x", "text/plain")}
    error = error_of(admin.post(f"{BASE}/{m['id']}/documents", data=data, files=files), 400)
    assert (error["code"], error["param"]) == ("parameter_missing", param)
    assert snapshot(admin, m["id"]) == before


def test_a_body_far_over_the_limit_is_refused_unread(tongbao: Stack, admin: httpx.Client) -> None:
    limit = tongbao.container.settings.document_max_bytes + 64 * 1024
    m = create_merchant(admin)
    before = snapshot(admin, m["id"])
    content = b"%PDF-1.4\n" + b"0" * limit
    error = error_of(upload(admin, m["id"], "business_license", content), 413)
    assert error["code"] == "payload_too_large"
    assert snapshot(admin, m["id"]) == before


# --- unknown ids and callers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "unknown", ["mch_nope", "mch_01J00000000000000000000000", "doc_01J00000000000000000000000"]
)
def test_unknown_merchants_are_404(admin: httpx.Client, unknown: str) -> None:
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"{BASE}/{unknown}", {}),
        ("PATCH", f"{BASE}/{unknown}", {"json": {"contact_name": "Nobody"}}),
        ("GET", f"{BASE}/{unknown}/events", {}),
        ("GET", f"{BASE}/{unknown}/documents", {}),
        ("GET", f"{BASE}/{unknown}/documents/doc_nope/content", {}),
        (
            "POST",
            f"{BASE}/{unknown}/documents",
            {"data": {"kind": "business_license"}, "files": {"file": ("a.pdf", PDF, "application/pdf")}},
        ),
        *[("POST", f"{BASE}/{unknown}/{action}", {"json": {"reason": "r"}}) for action in ACTIONS],
    ]
    for method, url, kwargs in requests:
        error = error_of(admin.request(method, url, **kwargs), 404)
        assert error["code"] == "resource_missing", (method, url)
    assert merchants_of(admin) == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"just some words\n", "text/plain"),
        (b"", "application/pdf"),
        (b"%PDF-1.4\n" + b"0" * (5 * MIB - 8), "application/pdf"),
    ],
    ids=["unsupported type", "empty", "too large"],
)
def test_a_bad_file_for_an_unknown_merchant_is_404(
    admin: httpx.Client, content: bytes, content_type: str
) -> None:
    # The merchant is looked up before the file is judged: there is nothing to upload to.
    response = upload(admin, "mch_01J00000000000000000000000", "business_license", content, content_type)
    error = error_of(response, 404)
    assert (error["code"], error["param"]) == ("resource_missing", "merchant_id")


def test_a_download_from_an_unknown_merchant_names_the_merchant(admin: httpx.Client) -> None:
    owner = create_merchant(admin)
    doc = ok(upload(admin, owner["id"], "business_license", PDF), 201)
    error = error_of(download(admin, "mch_01J00000000000000000000000", doc["id"]), 404)
    assert (error["code"], error["param"]) == ("resource_missing", "merchant_id")


def test_documents_are_found_only_under_their_own_merchant(admin: httpx.Client) -> None:
    owner, stranger = create_merchant(admin), create_merchant(admin)
    doc = ok(upload(admin, owner["id"], "business_license", PDF), 201)
    for merchant_id, document_id in [(stranger["id"], doc["id"]), (owner["id"], new_id("document"))]:
        error = error_of(download(admin, merchant_id, document_id), 404)
        assert (error["code"], error["param"]) == ("resource_missing", "document_id")
    assert documents_of(admin, stranger["id"]) == []
    assert download(admin, owner["id"], doc["id"]).content == PDF


def test_an_operator_token_is_required(admin: httpx.Client, anonymous: httpx.Client) -> None:
    m = create_merchant(admin)
    before = snapshot(admin, m["id"])
    refused = [
        anonymous.get(BASE),
        anonymous.post(BASE, json={"name": "Sneaky", "legal_name": "Sneaky Ltd."}),
        anonymous.get(f"{BASE}/{m['id']}"),
        anonymous.patch(f"{BASE}/{m['id']}", json={"name": "Sneaky"}),
        anonymous.post(f"{BASE}/{m['id']}/submit"),
        anonymous.get(f"{BASE}/{m['id']}/events"),
        upload(anonymous, m["id"], "business_license", PDF),
        anonymous.get(BASE, headers={"Authorization": "Bearer tbo_not-a-real-token-0123456789abcdef"}),
    ]
    for response in refused:
        assert error_of(response, 401)["code"].startswith("operator_"), response.request.url
    assert merchants_of(admin) == [before["merchant"]]
    assert snapshot(admin, m["id"]) == before
