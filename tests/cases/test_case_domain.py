"""Exception-case rules: which decisions each kind takes, and that a decided case stays decided."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tongbao.cases.domain import OUTCOME, CaseDecision, CaseKind, CaseProblem, CaseStatus, check_decision

# Written out from the design, independently of the module's table.
ALLOWED = {
    "amount_mismatch": {"accept", "refund", "dismiss"},
    "duplicate_payment": {"refund", "resolve", "dismiss"},
    "late_success": {"reopen", "refund", "dismiss"},
    "refund_failed": {"resolve", "dismiss"},
    "refund_mismatch": {"resolve", "dismiss"},
    "refund_overdue": {"resolve", "dismiss"},
}


@given(
    st.sampled_from(sorted(ALLOWED)),
    st.lists(st.one_of(st.sampled_from([d.value for d in CaseDecision]), st.text(max_size=8)), max_size=8),
    st.booleans(),
)
def test_a_case_takes_only_its_kinds_decisions_and_once_closed_never_moves(
    kind: str, decisions: list[str], refund_pending: bool
) -> None:
    status = CaseStatus.OPEN
    for decision in decisions:
        try:
            chosen = check_decision(kind, status, decision, refund_pending)
        except CaseProblem as problem:
            if decision not in ALLOWED[kind]:
                assert problem.code == "decision_invalid"
            elif status is not CaseStatus.OPEN:
                assert problem.code == "case_closed"
            else:
                assert (problem.code, refund_pending) == ("refund_in_progress", True)
            continue
        assert decision in ALLOWED[kind] and status is CaseStatus.OPEN and not refund_pending
        status = OUTCOME[chosen]
    assert set(CaseKind) == set(ALLOWED)


def test_a_refund_decision_keeps_the_case_open_until_the_money_is_back() -> None:
    assert OUTCOME[CaseDecision.REFUND] is CaseStatus.OPEN
    assert {OUTCOME[d] for d in CaseDecision if d is not CaseDecision.REFUND} == {
        CaseStatus.RESOLVED,
        CaseStatus.DISMISSED,
    }
