"""The onboarding rules on their own, property-tested: the review workflow and the document check."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongbao.merchants.domain import documents, onboarding
from tongbao.merchants.domain.documents import (
    ACCEPTED_TYPES,
    FILENAME_MAX_LEN,
    DocumentKind,
    DocumentRejected,
    check_document,
    missing_documents,
)
from tongbao.merchants.domain.onboarding import (
    TRANSITIONS,
    IllegalTransition,
    MerchantStatus,
    ReasonRequired,
    ReviewAction,
    transition,
)

S, A = MerchantStatus, ReviewAction
MAX_BYTES = 4_096
MAGIC = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}

# Reasons: none, blank ones, and real text with stray whitespace around it.
reasons = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "\t\n", "   \u3000 "]),
    st.text(min_size=1, max_size=40),
)
steps = st.lists(st.tuples(st.sampled_from(list(ReviewAction)), reasons), max_size=40)


# --- the review workflow ---------------------------------------------------------------------


def test_the_table_is_the_documented_workflow() -> None:
    # Written out by hand from the module's diagram, so that a changed table is noticed.
    expected = {
        (S.DRAFT, A.SUBMIT): S.SUBMITTED,
        (S.REJECTED, A.SUBMIT): S.SUBMITTED,
        (S.SUBMITTED, A.APPROVE): S.APPROVED,
        (S.SUBMITTED, A.REJECT): S.REJECTED,
        (S.APPROVED, A.ACTIVATE): S.ACTIVE,
        (S.ACTIVE, A.SUSPEND): S.SUSPENDED,
        (S.SUSPENDED, A.REINSTATE): S.ACTIVE,
    }
    actual = {
        (source, action): target for action, (sources, target) in TRANSITIONS.items() for source in sources
    }
    assert actual == expected
    assert set(TRANSITIONS) == set(ReviewAction)
    assert onboarding.REASON_REQUIRED == {A.REJECT, A.SUSPEND}
    assert {s for s in MerchantStatus if onboarding.is_editable(s)} == {S.DRAFT, S.REJECTED}
    assert {s for s in MerchantStatus if onboarding.can_take_payments(s)} == {S.ACTIVE}


@given(steps)
def test_random_sequences_from_draft_move_only_along_the_table(
    sequence: list[tuple[ReviewAction, str | None]],
) -> None:
    status = S.DRAFT
    for action, reason in sequence:
        sources, target = TRANSITIONS[action]
        before = status
        try:
            step = transition(status, action, reason)
        except IllegalTransition as exc:
            assert status not in sources
            assert (exc.status, exc.action) == (status, action)
            assert action.value in str(exc) and status.value in str(exc)
        except ReasonRequired:
            assert status in sources and action in onboarding.REASON_REQUIRED
            assert reason is None or not reason.strip()
        else:
            assert status in sources
            assert (step.from_status, step.to_status) == (status, target)
            assert step.reason == ((reason or "").strip() or None)
            if action in onboarding.REASON_REQUIRED:
                assert step.reason
            status = step.to_status
        # An exception leaves the caller's status as it was: only a Transition moves it.
        assert status in (before, target)


@given(st.sampled_from(list(MerchantStatus)), st.sampled_from(list(ReviewAction)), reasons)
def test_every_status_and_action(status: MerchantStatus, action: ReviewAction, reason: str | None) -> None:
    sources, target = TRANSITIONS[action]
    if status not in sources:
        with pytest.raises(IllegalTransition):
            transition(status, action, reason)
    elif action in onboarding.REASON_REQUIRED and not (reason or "").strip():
        with pytest.raises(ReasonRequired):
            transition(status, action, reason)
    else:
        assert transition(status, action, reason).to_status is target


@pytest.mark.parametrize("action", [A.REJECT, A.SUSPEND])
@pytest.mark.parametrize("reason", [None, "", "  ", "\n\t"])
def test_reject_and_suspend_without_a_reason(action: ReviewAction, reason: str | None) -> None:
    (source,) = TRANSITIONS[action][0]
    with pytest.raises(ReasonRequired):
        transition(source, action, reason)


def test_an_illegal_action_is_refused_before_the_reason_is_asked_for() -> None:
    with pytest.raises(IllegalTransition):
        transition(S.DRAFT, A.REJECT, None)


# --- documents -------------------------------------------------------------------------------


declared_types = st.one_of(
    st.sampled_from(list(ACCEPTED_TYPES)),
    st.sampled_from(["text/plain", "image/gif", "application/octet-stream", "", "application/pdfx"]),
    st.text(max_size=30),
)
kinds = st.sampled_from(list(DocumentKind))


def magic_of(content_type: str) -> bytes:
    return MAGIC[content_type.split(";")[0].strip().lower()]


@given(kinds, st.text(max_size=50), declared_types, st.binary(max_size=MAX_BYTES + 8))
def test_random_bytes_are_accepted_only_with_the_declared_magic(
    kind: DocumentKind, filename: str, declared: str, content: bytes
) -> None:
    try:
        checked = check_document(kind, filename, declared, content, MAX_BYTES)
    except DocumentRejected as exc:
        assert exc.code in ("document_empty", "document_too_large", "document_type_unsupported")
        return
    assert content.startswith(magic_of(declared))
    assert checked.content_type == declared.split(";")[0].strip().lower()
    assert 0 < checked.size_bytes == len(content) <= MAX_BYTES
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.kind is kind


@given(
    kinds,
    st.sampled_from(list(MAGIC)),
    st.sampled_from(list(MAGIC)),
    st.binary(max_size=200),
)
def test_magic_of_one_type_under_the_name_of_another_is_refused(
    kind: DocumentKind, actual: str, declared: str, rest: bytes
) -> None:
    content = MAGIC[actual] + rest
    if actual == declared:
        assert check_document(kind, "f", declared, content, MAX_BYTES).content_type == declared
    else:
        with pytest.raises(DocumentRejected) as refused:
            check_document(kind, "f", declared, content, MAX_BYTES)
        assert refused.value.code == "document_type_unsupported"


@given(
    kinds,
    st.sampled_from(list(MAGIC)),
    st.sampled_from(["", " ", "; charset=binary", ";q=1"]),
    st.booleans(),
    st.binary(max_size=100),
)
def test_declared_type_case_and_parameters_do_not_matter(
    kind: DocumentKind, content_type: str, suffix: str, upper: bool, rest: bytes
) -> None:
    declared = (content_type.upper() if upper else content_type) + suffix
    checked = check_document(kind, "f", declared, MAGIC[content_type] + rest, MAX_BYTES)
    assert checked.content_type == content_type


@given(kinds, st.sampled_from(list(MAGIC)), st.integers(min_value=1, max_value=64))
def test_size_limit_is_inclusive(kind: DocumentKind, content_type: str, extra: int) -> None:
    at_limit = MAGIC[content_type].ljust(MAX_BYTES, b"\x00")
    assert check_document(kind, "f", content_type, at_limit, MAX_BYTES).size_bytes == MAX_BYTES
    with pytest.raises(DocumentRejected) as refused:
        check_document(kind, "f", content_type, at_limit + b"\x00" * extra, MAX_BYTES)
    assert refused.value.code == "document_too_large"


@given(kinds, declared_types)
def test_empty_files_are_refused_whatever_they_claim(kind: DocumentKind, declared: str) -> None:
    with pytest.raises(DocumentRejected) as refused:
        check_document(kind, "f.pdf", declared, b"", MAX_BYTES)
    assert refused.value.code == "document_empty"


@given(st.text(max_size=400))
def test_stored_filenames_have_no_directories(filename: str) -> None:
    checked = check_document(
        DocumentKind.BUSINESS_LICENSE, filename, "application/pdf", b"%PDF-1.4", MAX_BYTES
    )
    assert checked.filename
    assert not {"/", "\\", "\x00"} & set(checked.filename)
    assert len(checked.filename) <= FILENAME_MAX_LEN


@given(st.sets(kinds))
def test_missing_documents(present: set[DocumentKind]) -> None:
    missing = missing_documents(present)
    assert set(missing) == set(DocumentKind) - present
    assert missing == sorted(missing)


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=64))
def test_sniffing_agrees_with_the_magic_table(content: bytes) -> None:
    sniffed = documents.sniff_type(content)
    matching = [t for t, magic in MAGIC.items() if content.startswith(magic)]
    assert sniffed == (matching[0] if matching else None)
