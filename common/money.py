"""Money and prices as value objects: Decimal pence-exact amounts in GBP, never floats.

A `Price` carries its VAT rate and refuses to guess it (as django-oscar's prices do).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY = "GBP"
PENNY = Decimal("0.01")
UNIT_PRICE_PLACES = Decimal("0.0001")
VAT_RATES = (Decimal("0"), Decimal("5"), Decimal("20"))


def to_decimal(value: object) -> Decimal:
    """A Decimal from a Decimal, int or numeric string; floats are refused as imprecise."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a Decimal, int or string.")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"Not an amount: {value!r}") from None


def quantize_money(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def quantize_unit_price(amount: Decimal) -> Decimal:
    return amount.quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, order=True)
class Money:
    amount: Decimal
    currency: str = CURRENCY

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if self.currency != CURRENCY:
            raise ValueError(f"Only {CURRENCY} is supported, not {self.currency}.")

    @classmethod
    def zero(cls) -> Money:
        return cls(Decimal("0"))

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise TypeError("Money adds only to Money of the same currency.")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("Multiply Money by an int or Decimal, never a float.")
        return Money(self.amount * to_decimal(factor))

    __rmul__ = __mul__

    def rounded(self) -> Money:
        return Money(quantize_money(self.amount))

    @property
    def pence(self) -> int:
        return int(quantize_money(self.amount) * 100)

    def __str__(self) -> str:
        return f"£{quantize_money(self.amount):,.2f}"


@dataclass(frozen=True)
class Price:
    """A price excluding VAT with its VAT rate (a percentage: 0, 5 or 20)."""

    excl_vat: Money
    vat_rate: Decimal

    def __post_init__(self) -> None:
        rate = to_decimal(self.vat_rate)
        if rate not in VAT_RATES:
            raise ValueError(f"VAT rate must be one of 0, 5 or 20, not {rate}.")
        object.__setattr__(self, "vat_rate", rate)

    @property
    def vat(self) -> Money:
        return Money(quantize_money(self.excl_vat.amount * self.vat_rate / 100))

    @property
    def incl_vat(self) -> Money:
        return Money(quantize_money(self.excl_vat.amount) + self.vat.amount)

    def __mul__(self, quantity: int | Decimal) -> Price:
        return Price(excl_vat=self.excl_vat * quantity, vat_rate=self.vat_rate)
