"""Money: an integer of minor units with its ISO 4217 currency, and the channels' wire formats.

Conversions to and from the channels' formats live here and nowhere else (Alipay and bills: yuan
strings with two decimals; UnionPay: fen strings; WeChat Pay: integer fen), and the rounding of
computed amounts (fees), which is half up to the fen, per transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

# Currencies Tongbao accepts, with their minor-unit exponent. The channels in scope settle in CNY.
CURRENCIES: Final = {"CNY": 2}
# The platform's single-payment ceiling, 1,000,000.00 CNY in fen; per-account limits come on top.
MAX_AMOUNT: Final = 100_000_000

_YUAN: Final = re.compile(r"(0|[1-9][0-9]{0,15})\.([0-9]{2})")
_FEN: Final = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise TypeError("money amounts are integers of minor units")
        if self.currency not in CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")


def fen_to_yuan(fen: int) -> str:
    """12345 -> "123.45"; never through a float."""
    if type(fen) is not int or fen < 0:
        raise ValueError("fen must be a non-negative integer")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(text: str) -> int:
    """ "123.45" -> 12345. Exactly two decimals, no sign, no exponent, no spaces."""
    match = _YUAN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a yuan amount with two decimals: {text!r}")
    return int(match.group(1)) * 100 + int(match.group(2))


def fen_to_string(fen: int) -> str:
    if type(fen) is not int or fen < 0:
        raise ValueError("fen must be a non-negative integer")
    return str(fen)


def string_to_fen(text: str) -> int:
    if _FEN.fullmatch(text) is None:
        raise ValueError(f"not a fen amount: {text!r}")
    return int(text)


# -- clearing: the one rounding rule ----------------------------------------------------------------

BASIS_POINTS: Final = Decimal(10_000)


def round_fen(value: Decimal) -> int:
    """The rounding of every computed amount (fees, proportional returns): half up to the minor
    unit, once per transaction, never on intermediate figures."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def rate_of(amount: int, rate_bps: Decimal) -> int:
    """``amount`` × ``rate_bps`` basis points, rounded by ``round_fen``."""
    return round_fen(Decimal(amount) * rate_bps / BASIS_POINTS)


def share_of(total: int, part: int, whole: int) -> int:
    """``total`` × ``part`` / ``whole``, rounded by ``round_fen``: the share of a fee that a part of
    its payment carries."""
    assert whole > 0 and 0 <= part <= whole, (part, whole)
    return round_fen(Decimal(total) * Decimal(part) / Decimal(whole))
