"""GS1 identifiers: published valid GTINs and GLNs pass, any one wrong digit fails, GTINs compare as 14."""

from __future__ import annotations

import pytest

from common import gs1

# Examples from GS1's own documents and packs on sale (check digits as printed).
VALID_GTINS = [
    "96385074",  # GTIN-8, GS1 check digit calculator example
    "036000291452",  # GTIN-12 (UPC-A), GS1 US example
    "4006381333931",  # GTIN-13 (EAN-13), Stabilo pen
    "5012345678900",  # GTIN-13 in GS1 UK's example range
    "9780306406157",  # GTIN-13 Bookland (ISBN 978-0-306-40615-7)
    "10614141000415",  # GTIN-14, GS1 General Specifications example
    "00012345600012",  # GTIN-14 with leading zeros
]
VALID_GLNS = [
    "0614141000005",  # GS1 General Specifications example GLN
    "5000000000005",  # GS1 UK range
    "4012345000009",
]


@pytest.mark.parametrize("gtin", VALID_GTINS)
def test_known_gtins_are_valid(gtin):
    assert gs1.gtin_problem(gtin) is None
    assert gs1.is_valid_gtin(gtin)
    assert gs1.with_check_digit(gtin[:-1]) == gtin


@pytest.mark.parametrize("gtin", VALID_GTINS)
def test_every_wrong_check_digit_is_refused(gtin):
    for digit in "0123456789":
        if digit != gtin[-1]:
            problem = gs1.gtin_problem(gtin[:-1] + digit)
            assert problem == f"the check digit is wrong (expected {gtin[-1]} at the end)"


def test_a_single_mistyped_digit_is_caught():
    assert not gs1.is_valid_gtin("5012345679900")  # one digit changed in the body


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("5012345678901", "the check digit is wrong (expected 0 at the end)"),
        ("50123456789", "a GTIN has 8, 12, 13 or 14 digits, not 11"),
        ("ABC1234567890", "a GTIN has digits only"),
        ("５０１２３４５６７８９００", "a GTIN has digits only"),  # full-width digits
        ("", "a GTIN has digits only"),
    ],
)
def test_what_is_wrong_with_a_gtin_is_said(text, problem):
    assert gs1.gtin_problem(text) == problem


def test_gtins_are_stored_as_14_digits_whatever_their_length_or_spacing():
    assert gs1.gtin14("96385074") == "00000096385074"
    assert gs1.gtin14("036000291452") == "00036000291452"
    assert gs1.gtin14("5 012345 678900") == "05012345678900"
    assert gs1.gtin14("5012-3456-78900") == "05012345678900"
    assert gs1.gtin14("10614141000415") == "10614141000415"
    assert gs1.gtin14("  ") == ""
    # The 14-digit form of a valid GTIN is itself valid (padding zeros weigh nothing).
    assert all(gs1.is_valid_gtin(gs1.gtin14(g)) for g in VALID_GTINS)


def test_what_search_treats_as_a_gtin():
    assert gs1.looks_like_gtin("5012345678900")
    assert not gs1.looks_like_gtin("123456789")
    assert not gs1.looks_like_gtin("MED-1234")


@pytest.mark.parametrize("gln", VALID_GLNS)
def test_known_glns_are_valid(gln):
    assert gs1.gln_problem(gln) is None
    assert gs1.is_valid_gln(gln)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0614141000006", "the check digit is wrong (expected 5 at the end)"),
        ("10614141000415", "a GLN has 13 digits, not 14"),
        ("96385074", "a GLN has 13 digits, not 8"),
        ("061414100000X", "a GLN has digits only"),
    ],
)
def test_what_is_wrong_with_a_gln_is_said(text, problem):
    assert gs1.gln_problem(text) == problem


def test_the_check_digit_refuses_anything_but_digits():
    with pytest.raises(ValueError):
        gs1.check_digit("12a4")
