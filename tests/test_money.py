"""Money and the channels' wire formats, property-tested against Decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tongbao.money import CURRENCIES, Money, fen_to_string, fen_to_yuan, string_to_fen, yuan_to_fen

FEN = st.integers(min_value=0, max_value=10**15)


def decimal_yuan(fen: int) -> str:
    """The oracle: fen as yuan with exactly two decimals, computed by Decimal, not by the module."""
    return format(Decimal(fen).scaleb(-2), "f")


# --- yuan strings (Alipay, bills) ------------------------------------------------------------


@given(FEN)
@example(0)
@example(1)
@example(10)
@example(99)
@example(100)
@example(10**15)
def test_fen_to_yuan_agrees_with_decimal_and_round_trips(fen: int) -> None:
    text = fen_to_yuan(fen)
    assert text == decimal_yuan(fen)
    assert Decimal(text) * 100 == fen
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (12345, "123.45"),
        (10**15, "10000000000000.00"),
    ],
)
def test_known_yuan_values(fen: int, text: str) -> None:
    assert fen_to_yuan(fen) == text
    assert yuan_to_fen(text) == fen


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from([1, 3, 4]), st.data())
def test_yuan_with_other_than_two_decimals_is_refused(whole: int, decimals: int, data: st.DataObject) -> None:
    digits = data.draw(st.text(alphabet="0123456789", min_size=decimals, max_size=decimals))
    with pytest.raises(ValueError):
        yuan_to_fen(f"{whole}.{digits}")


@given(FEN, st.sampled_from(["+", "-", " ", "\t", "\n", "\u3000"]), st.booleans())
def test_yuan_with_signs_or_surrounding_space_is_refused(fen: int, extra: str, before: bool) -> None:
    text = f"{extra}{fen_to_yuan(fen)}" if before else f"{fen_to_yuan(fen)}{extra}"
    with pytest.raises(ValueError):
        yuan_to_fen(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "1.",
        ".50",
        "1.5",
        "1.500",
        "01.00",
        "00.00",
        "-1.00",
        "+1.00",
        "-0.00",
        " 1.00",
        "1.00 ",
        "1 .00",
        "1. 00",
        "1.00\n",
        "1e2",
        "1E2",
        "1.00e0",
        "1.0e1",
        "1,00",
        "1_000.00",
        "NaN",
        "Infinity",
        "0x1.00",
        "\u0661.\u0660\u0660",  # Arabic-Indic digits: int() would take them, a channel would not
        "\uff11.\uff10\uff10",  # full-width digits
    ],
)
def test_malformed_yuan_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(text)


@given(st.text(alphabet="0123456789.+-eE _", max_size=22))
@example("0.00")
@example("00.01")
def test_any_accepted_yuan_string_is_canonical(text: str) -> None:
    """Whatever is accepted means what Decimal says it means and is written back the same way."""
    try:
        fen = yuan_to_fen(text)
    except ValueError:
        return
    assert Decimal(text) * 100 == fen
    assert fen_to_yuan(fen) == text


# --- fen strings (UnionPay) ------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**18 - 1))
@example(0)
@example(10**18 - 1)
def test_fen_strings_round_trip(fen: int) -> None:
    text = fen_to_string(fen)
    assert text == format(Decimal(fen), "f")
    assert string_to_fen(text) == fen


@pytest.mark.parametrize(
    "text",
    ["", "-1", "+1", "1.0", "1.", "01", "00", " 1", "1 ", "1\n", "1e3", "1_000", "1,000", "0x10", "\u0661"],
)
def test_malformed_fen_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        string_to_fen(text)


@given(st.text(alphabet="0123456789+-. e_", max_size=20))
def test_any_accepted_fen_string_is_canonical(text: str) -> None:
    try:
        fen = string_to_fen(text)
    except ValueError:
        return
    assert Decimal(text) == fen
    assert fen_to_string(fen) == text


# --- what the converters refuse to convert ---------------------------------------------------


@pytest.mark.parametrize("convert", [fen_to_yuan, fen_to_string])
@pytest.mark.parametrize("value", [-1, -(10**15), True, False, 1.0, 0.0, Decimal("1"), "1", None])
def test_converters_take_only_non_negative_ints(convert: object, value: object) -> None:
    assert callable(convert)
    with pytest.raises(ValueError):
        convert(value)


@given(st.integers(max_value=-1))
def test_negative_fen_is_refused(fen: int) -> None:
    with pytest.raises(ValueError):
        fen_to_yuan(fen)
    with pytest.raises(ValueError):
        fen_to_string(fen)


# --- Money -----------------------------------------------------------------------------------


def test_cny_has_two_decimals() -> None:
    assert CURRENCIES == {"CNY": 2}


@given(st.integers())
def test_money_holds_any_integer_of_cny(amount: int) -> None:
    money = Money(amount, "CNY")
    assert (money.amount, money.currency) == (amount, "CNY")


@pytest.mark.parametrize("amount", [1.0, 0.5, float("nan"), True, False, Decimal("1"), "1", None])
def test_money_refuses_non_integer_amounts(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "CNY")  # type: ignore[arg-type]


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_money_refuses_every_float(amount: float) -> None:
    with pytest.raises(TypeError):
        Money(amount, "CNY")  # type: ignore[arg-type]


@given(st.one_of(st.text(max_size=5), st.sampled_from(["cny", "USD", "RMB", "CNH", " CNY", "CNY "])))
def test_money_refuses_unknown_currencies(currency: str) -> None:
    if currency == "CNY":
        return
    with pytest.raises(ValueError):
        Money(1, currency)


def test_money_is_immutable_and_compares_by_value() -> None:
    money = Money(100, "CNY")
    assert money == Money(100, "CNY")
    assert money != Money(101, "CNY")
    with pytest.raises(AttributeError):
        money.amount = 5  # type: ignore[misc]
