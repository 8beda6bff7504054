"""The payment rules on their own, property-tested: state machines, amounts, expiry, the query ladder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tongbao.payments.domain import (
    FINAL_PAYMENT_STATES,
    MAX_AMOUNT,
    AmountProblem,
    AttemptStatus,
    IllegalTransition,
    PaymentStatus,
    check_amount,
    check_attempt_transition,
    check_capture,
    check_expire_in,
    check_metadata,
    check_payment_transition,
    expiry,
    next_query_at,
)

# The state machines as DESIGN §4 states them, written out here independently of the module.
PAYMENT_MODEL: dict[str, set[str]] = {
    "pending": {"succeeded", "closed", "failed"},
    "succeeded": {"refunded_partially", "refunded"},
    "refunded_partially": {"refunded_partially", "refunded"},
    "closed": set(),
    "failed": set(),
    "refunded": set(),
}
ATTEMPT_MODEL: dict[str, set[str]] = {
    "pending": {"succeeded", "closed", "failed", "mismatched"},
    "succeeded": set(),
    # The channel's capture is a fact: a closed or failed attempt can still turn out paid.
    "closed": {"succeeded", "mismatched"},
    "failed": {"succeeded", "mismatched"},
    "mismatched": {"succeeded"},
}
FINAL = {"closed", "failed", "refunded"}

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


# --- the payment state machine ---------------------------------------------------------------


def test_the_model_covers_every_state() -> None:
    assert {s.value for s in PaymentStatus} == set(PAYMENT_MODEL)
    assert {s.value for s in AttemptStatus} == set(ATTEMPT_MODEL)
    assert {s.value for s in FINAL_PAYMENT_STATES} == FINAL


@pytest.mark.parametrize("current", list(PaymentStatus))
@pytest.mark.parametrize("target", list(PaymentStatus))
def test_every_payment_move_is_legal_exactly_when_the_model_says(
    current: PaymentStatus, target: PaymentStatus
) -> None:
    if target.value in PAYMENT_MODEL[current.value]:
        check_payment_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as raised:
            check_payment_transition(current, target)
        assert (raised.value.current, raised.value.target) == (current, target)
        assert f"from {current.value} to {target.value}" in str(raised.value)


@given(st.lists(st.sampled_from(PaymentStatus), max_size=30))
def test_random_payment_sequences_follow_the_model(targets: list[PaymentStatus]) -> None:
    state = PaymentStatus.PENDING
    seen_succeeded = False
    for target in targets:
        before = state
        try:
            check_payment_transition(state, target)
        except IllegalTransition:
            assert target.value not in PAYMENT_MODEL[state.value]
        else:
            assert target.value in PAYMENT_MODEL[state.value]
            state = target
        # A refused move leaves the state as it was; a final state is never left.
        assert state in (before, target)
        if before.value in FINAL:
            assert state == before
        seen_succeeded = seen_succeeded or state == PaymentStatus.SUCCEEDED
        if seen_succeeded:
            assert state != PaymentStatus.PENDING


@given(st.sampled_from(sorted(FINAL)), st.lists(st.sampled_from(PaymentStatus), min_size=1, max_size=10))
def test_nothing_moves_a_final_payment(final: str, targets: list[PaymentStatus]) -> None:
    for target in targets:
        with pytest.raises(IllegalTransition):
            check_payment_transition(PaymentStatus(final), target)


@pytest.mark.parametrize("current", list(PaymentStatus))
def test_no_payment_ever_goes_back_to_pending(current: PaymentStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_payment_transition(current, PaymentStatus.PENDING)


# --- the attempt state machine ---------------------------------------------------------------


@given(st.lists(st.sampled_from(AttemptStatus), max_size=20))
def test_random_attempt_sequences_follow_the_model(targets: list[AttemptStatus]) -> None:
    state = AttemptStatus.PENDING
    for target in targets:
        before = state
        try:
            check_attempt_transition(state, target)
        except IllegalTransition as exc:
            assert target.value not in ATTEMPT_MODEL[state.value]
            assert (exc.current, exc.target) == (state, target)
        else:
            assert target.value in ATTEMPT_MODEL[state.value]
            state = target
        if before == AttemptStatus.SUCCEEDED:
            assert state == before  # a capture is final
        if before != AttemptStatus.PENDING and state != before:
            assert state in (AttemptStatus.SUCCEEDED, AttemptStatus.MISMATCHED)  # only a capture moves on


@pytest.mark.parametrize("current", list(AttemptStatus))
@pytest.mark.parametrize("target", list(AttemptStatus))
def test_every_attempt_move_is_legal_exactly_when_the_model_says(
    current: AttemptStatus, target: AttemptStatus
) -> None:
    if target.value in ATTEMPT_MODEL[current.value]:
        check_attempt_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_attempt_transition(current, target)


@pytest.mark.parametrize("current", list(PaymentStatus))
@pytest.mark.parametrize("late", [False, True])
def test_a_payment_takes_a_capture_from_pending_or_late_from_closed_or_failed(
    current: PaymentStatus, late: bool
) -> None:
    allowed = {"closed", "failed"} if late else {"pending"}
    if current.value in allowed:
        check_capture(current, late)
    else:
        with pytest.raises(IllegalTransition):
            check_capture(current, late)


# --- amounts ---------------------------------------------------------------------------------


def test_the_ceiling_is_one_million_yuan() -> None:
    assert MAX_AMOUNT == 1_000_000 * 100


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
@example(1)
@example(MAX_AMOUNT)
def test_positive_amounts_up_to_the_ceiling_are_accepted(amount: int) -> None:
    assert check_amount(amount, "CNY") == (amount, "CNY")


def _problem(amount: object, currency: object) -> AmountProblem:
    with pytest.raises(AmountProblem) as raised:
        check_amount(amount, currency)
    return raised.value


@given(st.integers(max_value=0))
@example(0)
@example(-1)
def test_zero_and_negative_amounts_are_invalid(amount: int) -> None:
    problem = _problem(amount, "CNY")
    assert (problem.code, problem.param) == ("amount_invalid", "amount")


@given(st.integers(min_value=MAX_AMOUNT + 1))
@example(MAX_AMOUNT + 1)
def test_amounts_over_the_ceiling_are_too_large(amount: int) -> None:
    problem = _problem(amount, "CNY")
    assert (problem.code, problem.param) == ("amount_too_large", "amount")


@given(
    st.one_of(
        st.floats(),
        st.booleans(),
        st.text(max_size=10),
        st.none(),
        st.decimals(allow_nan=False),
        st.lists(st.integers(), max_size=2),
    )
)
@example(100.0)
@example(True)
@example("100")
@example(None)
def test_non_integer_amounts_are_invalid(amount: object) -> None:
    problem = _problem(amount, "CNY")
    assert (problem.code, problem.param) == ("amount_invalid", "amount")


@given(
    st.integers(min_value=1, max_value=MAX_AMOUNT),
    st.one_of(st.text(max_size=6), st.none(), st.integers(), st.just(b"CNY")),
)
@example(100, "cny")
@example(100, "USD")
@example(100, "RMB")
@example(100, " CNY")
@example(100, "")
def test_any_currency_but_cny_is_unsupported(amount: int, currency: object) -> None:
    if currency == "CNY":
        return
    problem = _problem(amount, currency)
    assert (problem.code, problem.param) == ("currency_unsupported", "currency")


# --- expiry ----------------------------------------------------------------------------------


@given(st.integers(min_value=60, max_value=604_800))
@example(60)
@example(604_800)
def test_expire_in_within_a_minute_and_a_week_is_accepted(seconds: int) -> None:
    assert check_expire_in(seconds) == seconds


def test_no_expire_in_means_the_default() -> None:
    assert check_expire_in(None) is None


@given(st.one_of(st.integers(max_value=59), st.integers(min_value=604_801)))
@example(59)
@example(0)
@example(-60)
@example(604_801)
def test_expire_in_out_of_bounds_is_refused(seconds: int) -> None:
    with pytest.raises(AmountProblem) as raised:
        check_expire_in(seconds)
    assert (raised.value.code, raised.value.param) == ("parameter_invalid", "expire_in_seconds")


@pytest.mark.parametrize("seconds", [86_400_000_000_000, 10**20, -86_400_000_000_000])
def test_an_absurdly_large_expire_in_is_refused_like_any_other(seconds: int) -> None:
    # Beyond what a timedelta can hold: refused as bad input, not a 500 from an OverflowError.
    with pytest.raises(AmountProblem) as raised:
        check_expire_in(seconds)
    assert (raised.value.code, raised.value.param) == ("parameter_invalid", "expire_in_seconds")


@pytest.mark.parametrize("value", [60.0, 3600.5, "3600", True, False, [3600], {"s": 3600}])
def test_expire_in_must_be_an_integer(value: object) -> None:
    with pytest.raises(AmountProblem) as raised:
        check_expire_in(value)
    assert (raised.value.code, raised.value.param) == ("parameter_invalid", "expire_in_seconds")


instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; timezones= makes them UTC
    max_value=datetime(2090, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(instants, st.one_of(st.none(), st.integers(min_value=60, max_value=604_800)))
def test_expiry_is_two_hours_unless_asked_otherwise(now: datetime, seconds: int | None) -> None:
    expected = now + (timedelta(hours=2) if seconds is None else timedelta(seconds=seconds))
    assert expiry(now, seconds) == expected


# --- the query ladder ------------------------------------------------------------------------


def ladder_offset(queries_done: int) -> timedelta:
    """1, 5, 15 and 60 minutes after creation, then every hour."""
    ladder = [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR]
    if queries_done < len(ladder):
        return ladder[queries_done]
    return HOUR + HOUR * (queries_done - len(ladder) + 1)


def test_the_first_queries_follow_the_ladder() -> None:
    created = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    expires = created + timedelta(days=1)
    got = [next_query_at(created, n, expires) for n in range(7)]
    assert got == [
        created + MINUTE,
        created + 5 * MINUTE,
        created + 15 * MINUTE,
        created + HOUR,
        created + 2 * HOUR,
        created + 3 * HOUR,
        created + 4 * HOUR,
    ]


def test_a_query_due_exactly_at_expiry_is_not_scheduled() -> None:
    created = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    expires = created + 15 * MINUTE
    assert next_query_at(created, 1, expires) == created + 5 * MINUTE
    assert next_query_at(created, 2, expires) is None  # due at 15 min, which is the expiry itself


@given(
    instants,
    st.integers(min_value=1, max_value=8 * 24 * 3600),
    st.integers(min_value=1, max_value=250),
)
@example(datetime(2025, 1, 1, tzinfo=UTC), 60, 10)
@example(datetime(2025, 1, 1, tzinfo=UTC), 7200, 10)
@example(datetime(2025, 1, 1, tzinfo=UTC), 604_800, 200)
def test_queries_climb_the_ladder_and_stop_before_expiry(created: datetime, span_s: int, count: int) -> None:
    expires = created + timedelta(seconds=span_s)
    schedule = [next_query_at(created, n, expires) for n in range(count)]
    expected = [
        created + ladder_offset(n) if created + ladder_offset(n) < expires else None for n in range(count)
    ]
    assert schedule == expected
    # Once nothing is due before expiry, nothing ever is again.
    cut = schedule.index(None) if None in schedule else count
    assert all(at is None for at in schedule[cut:])
    due = [at for at in schedule[:cut] if at is not None]
    assert len(due) == cut
    assert all(a < b for a, b in zip(due, due[1:], strict=False))
    assert all(created < at < expires for at in due)


# --- metadata --------------------------------------------------------------------------------

keys = st.text(min_size=0, max_size=40)
values = st.text(max_size=500)


@given(st.dictionaries(keys, values, max_size=20))
def test_metadata_within_limits_is_kept(metadata: dict[str, str]) -> None:
    kept = check_metadata(metadata)
    assert kept == metadata
    assert kept is not metadata  # a copy: the caller's dict can change without touching ours


def test_no_metadata_is_empty() -> None:
    assert check_metadata(None) == {}


def test_the_limits_themselves_are_accepted() -> None:
    metadata = {f"{i:02d}" + "k" * 38: "v" * 500 for i in range(20)}
    assert check_metadata(metadata) == metadata


def _metadata_problem(value: object) -> AmountProblem:
    with pytest.raises(AmountProblem) as raised:
        check_metadata(value)
    assert raised.value.code == "parameter_invalid"
    return raised.value


@given(st.dictionaries(keys, values, min_size=21, max_size=30))
def test_more_than_twenty_keys_are_refused(metadata: dict[str, str]) -> None:
    assert _metadata_problem(metadata).param == "metadata"


@pytest.mark.parametrize("value", [[], ["a"], "a=b", 1, True, ("a", "b")])
def test_metadata_must_be_an_object(value: object) -> None:
    assert _metadata_problem(value).param == "metadata"


@given(st.text(min_size=501, max_size=600))
def test_a_value_over_500_characters_is_refused(value: str) -> None:
    assert _metadata_problem({"order": value}).param == "metadata.order"


@given(st.text(min_size=41, max_size=60))
def test_a_key_over_40_characters_is_refused(key: str) -> None:
    assert _metadata_problem({key: "x"}).param == f"metadata.{key}"


@pytest.mark.parametrize("value", [1, 1.5, True, None, ["a"], {"a": "b"}])
def test_metadata_values_must_be_strings(value: object) -> None:
    assert _metadata_problem({"ok": "fine", "bad": value}).param == "metadata.bad"
