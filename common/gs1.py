"""GS1 identifiers in one place: the mod-10 check digit, GTINs (8, 12, 13 or 14 digits, stored as 14)
and GLNs (13-digit Global Location Numbers, which name a trust's or supplier's sites on orders).

Everything that reads, stores, matches or searches a GTIN or GLN uses these, so one is accepted,
refused and compared the same way in every app. Pure functions, no Django.
"""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)
GTIN_STORED_LENGTH = 14
GLN_LENGTH = 13
_SEPARATORS = str.maketrans("", "", " -")


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3, 1, 3, ... from the right)."""
    if not body.isascii() or not body.isdigit():
        raise ValueError(f"a GS1 identifier has digits only, not {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def with_check_digit(body: str) -> str:
    """The identifier made of `body` and its check digit."""
    return body + str(check_digit(body))


def compact(text: str | None) -> str:
    """The identifier as typed with spaces and hyphens taken out ("5 012345 678900" -> "5012345678900")."""
    return (text or "").strip().translate(_SEPARATORS)


def looks_like_gtin(value: str) -> bool:
    """Digits of a GTIN's length (the check digit not checked): what search treats as a GTIN."""
    return value.isascii() and value.isdigit() and len(value) in GTIN_LENGTHS


def _problem(text: str | None, *, name: str, lengths: tuple[int, ...], lengths_text: str) -> str | None:
    value = compact(text)
    if not value.isascii() or not value.isdigit():
        return f"a {name} has digits only"
    if len(value) not in lengths:
        return f"a {name} has {lengths_text} digits, not {len(value)}"
    expected = check_digit(value[:-1])
    if expected != int(value[-1]):
        return f"the check digit is wrong (expected {expected} at the end)"
    return None


def gtin_problem(text: str | None) -> str | None:
    """Why `text` is not a valid GTIN, in words for the person who typed it, or None when it is."""
    return _problem(text, name="GTIN", lengths=GTIN_LENGTHS, lengths_text="8, 12, 13 or 14")


def is_valid_gtin(text: str | None) -> bool:
    return gtin_problem(text) is None


def gtin14(text: str | None) -> str:
    """A GTIN-8/12/13/14 in the 14-digit form the catalogue stores and matches (left-padded with
    zeros); blank stays "". The check digit is not checked here (see `gtin_problem`)."""
    value = compact(text)
    return value.zfill(GTIN_STORED_LENGTH) if value else ""


def gln_problem(text: str | None) -> str | None:
    """Why `text` is not a valid GLN (13 digits, GS1 check digit), or None when it is."""
    return _problem(text, name="GLN", lengths=(GLN_LENGTH,), lengths_text=str(GLN_LENGTH))


def is_valid_gln(text: str | None) -> bool:
    return gln_problem(text) is None
