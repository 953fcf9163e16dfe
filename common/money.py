"""Money and prices as value objects: Decimal pence-exact amounts in GBP, never floats.

A `Price` carries its VAT rate and refuses to guess it (as django-oscar's prices do). The strategy
answers in these, and purchase orders, ledger transfers and payments use them too. Money is stored in
one way, `money_field()` (pounds to the penny) or `unit_price_field()` (four places), and crosses to
systems that count in pence (Stripe) only through `to_pence` / `from_pence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY = "GBP"
MONEY_MAX_DIGITS = 14
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
        return to_pence(self)

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


def to_pence(amount: Money | Decimal | int | str) -> int:
    """Whole pence, rounded half up (as every amount here): what a card payment is asked for."""
    value = amount.amount if isinstance(amount, Money) else to_decimal(amount)
    return int(quantize_money(value) * 100)


def from_pence(pence: int) -> Money:
    """The Money of a whole number of pence (a payment provider's amount)."""
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError(f"Pence are a whole number, not {pence!r}.")
    return Money(Decimal(pence) / 100).rounded()


def money_field(**kwargs):
    """The one column type for an amount of money: pounds to the penny (`DecimalField(14, 2)`)."""
    from django.db import models  # this module is plain Python until a model asks for a column

    return models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2, **kwargs)


def unit_price_field(**kwargs):
    """The column type for a price per unit: four places, as `quantize_unit_price` rounds."""
    from django.db import models

    return models.DecimalField(max_digits=MONEY_MAX_DIGITS + 4, decimal_places=4, **kwargs)
