from decimal import Decimal

import pytest

from common.money import Money, Price


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
