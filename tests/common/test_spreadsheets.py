from decimal import Decimal

from common.spreadsheets import safe_row


def test_a_product_name_carrying_a_formula_reaches_a_report_as_inert_text() -> None:
    row = safe_row(['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Gloves"])
    assert row == ['\'=HYPERLINK("http://evil","x")', "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Gloves"]


def test_a_negative_saving_stays_a_number() -> None:
    assert safe_row([Decimal("-12.50"), -3, 1.5]) == [Decimal("-12.50"), -3, 1.5]
