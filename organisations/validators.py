from __future__ import annotations

import re

import nhs_number
from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.gb import vat as stdnum_gb_vat


def normalise_nhs_number(value: str) -> str:
    """Digits only: '943 476 5919' and '943-476-5919' become '9434765919'."""
    return "".join(ch for ch in str(value) if ch.isdigit())


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or digits != str(value).replace(" ", "").replace("-", ""):
        raise ValidationError(
            "Enter an NHS number of 10 digits, like 943 476 5919.", code="nhs_number_format"
        )
    if not nhs_number.is_valid(digits):
        raise ValidationError(
            "This is not a valid NHS number: its check digit does not match.", code="nhs_number"
        )


# Companies House numbers: eight digits (England and Wales), or a two-letter prefix and six digits
# (SC Scotland, NI Northern Ireland, OC/SO/NC limited liability partnerships, ...), or R0 and six
# digits (old Northern Irish companies). Shorter all-digit numbers are written with leading zeros.
COMPANIES_HOUSE_NUMBER = re.compile(r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6}|R0[0-9]{6})$")


def normalise_companies_house_number(value: str) -> str:
    """'sc 123456' becomes 'SC123456'; '1234567' becomes '01234567'. Raises ValidationError."""
    compact = "".join(str(value).split()).upper()
    if compact.isdigit() and 6 <= len(compact) < 8:
        compact = compact.zfill(8)
    if not COMPANIES_HOUSE_NUMBER.match(compact):
        raise ValidationError(
            "Enter a Companies House number of 8 characters, like 01234567 or SC123456.",
            code="companies_house_number",
        )
    return compact


def normalise_uk_vat_number(value: str) -> str:
    """A UK VAT number, checked by python-stdnum (format and check digits), as 'GB' and its digits,
    e.g. 'GB 980 7806 84' becomes 'GB980780684'. Raises ValidationError."""
    try:
        compact = stdnum_gb_vat.validate(str(value))
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError(
            "This is not a valid UK VAT number: its check digits do not match.", code="vat_number"
        ) from None
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            "Enter a UK VAT number of 9 digits, like GB 123 4567 89.", code="vat_number_format"
        ) from None
    return f"GB{compact}"
