from __future__ import annotations

import nhs_number
from django.core.exceptions import ValidationError


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
