"""Exception-case rules: which decisions each kind takes, and that a decided case stays decided."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tongbao.cases.domain import OUTCOME, CaseDecision, CaseKind, CaseStatus, check_decision
from tongbao.rules import RuleBroken

# Written out from the design, independently of the module's table.
ALLOWED = {
    "amount_mismatch": {"accept", "refund", "dismiss"},
    "duplicate_payment": {"refund", "resolve", "dismiss"},
    "late_success": {"reopen", "refund", "dismiss"},
    "refund_failed": {"resolve", "dismiss"},
    "refund_mismatch": {"mark_refunded", "mark_failed", "resolve", "dismiss"},
    "refund_overdue": {"mark_refunded", "mark_failed", "resume", "resolve", "dismiss"},
    "refund_contradicted": {"mark_refunded", "mark_failed"},
    "ledger_refused": {"resolve", "dismiss"},
}
ABOUT_A_REFUND = {"refund_mismatch", "refund_overdue", "refund_contradicted"}
SETTLING = {"mark_refunded", "mark_failed", "resume"}


def _expected_refusal(kind: str, status: CaseStatus, decision: str, refund: str) -> str | None:
    """``refund``: the case's refund is "final", "pending" at the channel, or "contested"."""
    if decision not in ALLOWED[kind]:
        return "decision_invalid"
    if status is not CaseStatus.OPEN:
        return "case_closed"
    open_refund = refund != "final"
    if kind not in ABOUT_A_REFUND:
        return "refund_in_progress" if open_refund else None
    if decision in SETTLING:
        if not open_refund or (decision == "resume" and refund != "pending"):
            return "refund_final"
        return None
    return "refund_in_progress" if open_refund else None


@given(
    st.sampled_from(sorted(ALLOWED)),
    st.lists(st.one_of(st.sampled_from([d.value for d in CaseDecision]), st.text(max_size=8)), max_size=8),
    st.sampled_from(["final", "pending", "contested"]),
)
def test_a_case_takes_only_its_kinds_decisions_and_once_closed_never_moves(
    kind: str, decisions: list[str], refund: str
) -> None:
    status = CaseStatus.OPEN
    for decision in decisions:
        expected = _expected_refusal(kind, status, decision, refund)
        try:
            chosen = check_decision(kind, status, decision, refund != "final", refund == "pending")
        except RuleBroken as problem:
            assert problem.code == expected
            continue
        assert expected is None
        status = OUTCOME[chosen]
    assert set(CaseKind) == set(ALLOWED)


def test_a_refund_decision_keeps_the_case_open_until_the_money_is_back() -> None:
    assert OUTCOME[CaseDecision.REFUND] is CaseStatus.OPEN
    assert OUTCOME[CaseDecision.RESUME] is CaseStatus.OPEN  # the janitor asks again; the case waits
    waiting = {CaseDecision.REFUND, CaseDecision.RESUME}
    assert {OUTCOME[d] for d in CaseDecision if d not in waiting} == {
        CaseStatus.RESOLVED,
        CaseStatus.DISMISSED,
    }
