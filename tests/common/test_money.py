from decimal import Decimal

import pytest

from common.money import Money, Price, from_pence, money_field, to_pence, unit_price_field


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        Money(12.5)
    with pytest.raises(TypeError):
        Money(Decimal("1")) * 1.5


def test_price_adds_vat_at_its_rate_rounded_to_the_penny():
    price = Price(excl_vat=Money(Decimal("10.99")), vat_rate=Decimal("20"))
    assert price.vat.amount == Decimal("2.20")
    assert price.incl_vat.amount == Decimal("13.19")
    assert (price * 3).incl_vat.amount == Decimal("39.56")


def test_price_refuses_an_unknown_vat_rate():
    with pytest.raises(ValueError, match="VAT rate"):
        Price(excl_vat=Money(Decimal("1")), vat_rate=Decimal("17.5"))


def test_money_prints_in_pounds():
    assert str(Money(Decimal("1234.5"))) == "£1,234.50"


@pytest.mark.parametrize(
    ("amount", "pence"),
    [
        (Decimal("12.50"), 1250),
        (Decimal("0.005"), 1),  # half a penny rounds up, as every amount here
        (Decimal("0.004"), 0),
        (Decimal("1234.567"), 123457),
        (Money(Decimal("9.99")), 999),
        ("0", 0),
        (Decimal("-1.005"), -101),  # a refund rounds away from zero
    ],
)
def test_amounts_cross_to_pence_rounded_half_up(amount, pence):
    assert to_pence(amount) == pence


def test_pence_come_back_as_the_same_money():
    for pence in (0, 1, 99, 100, 1250, 123457):
        money = from_pence(pence)
        assert isinstance(money, Money)
        assert to_pence(money) == pence == money.pence
    assert from_pence(1250).amount == Decimal("12.50")
    assert str(from_pence(123457)) == "£1,234.57"


def test_pence_are_whole_numbers():
    for wrong in (12.5, "1250", Decimal("1250"), True):
        with pytest.raises(TypeError):
            from_pence(wrong)
    with pytest.raises(TypeError):
        to_pence(12.5)


def test_money_is_stored_in_one_column_type():
    pack = money_field()
    unit = unit_price_field()
    assert (pack.max_digits, pack.decimal_places) == (14, 2)
    assert (unit.max_digits, unit.decimal_places) == (18, 4)
