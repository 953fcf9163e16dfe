"""The catalogue's rules for single values: identifiers, money, VAT, tiers, whole numbers.

Each parser takes text as a user typed it (a form field, a spreadsheet cell) and returns the
normalised value or raises `DomainError` naming the field. Forms, the API, the file importer and
the services all use these, so a value is accepted or refused the same way everywhere.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from catalogue.models import VolumeTier
from catalogue.types import OfferInput, StockStatus
from common import bounds, gs1
from common.errors import DomainError
from common.money import VAT_RATES

NPC_PATTERN = re.compile(r"^[A-Z0-9]{1,10}$")
NAME_MIN, NAME_MAX = 3, 200
SKU_MAX = 64
MAX_PACK_PRICE = Decimal("999999999999.99")
STOCK_STATUSES = frozenset(StockStatus.values)  # computed once: Choices.values builds a new list per call
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


class OfferInvalid(DomainError):
    """An offer with one or more bad values; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["errors"] = dict(self.errors)
        return body


def parse_gtin(text: str | None, *, field: str = "gtin") -> str | None:
    """A GTIN-8/12/13/14 with a valid check digit, as 14 digits (left-padded); blank is None."""
    if not gs1.compact(text):
        return None
    if problem := gs1.gtin_problem(text):
        raise DomainError(problem, field=field)
    return gs1.gtin14(text)


def parse_npc(text: str | None, *, field: str = "npc") -> str | None:
    """An NHS Supply Chain code: letters and digits, up to 10, stored in capitals; blank is None."""
    value = (text or "").strip().upper()
    if not value:
        return None
    if not NPC_PATTERN.match(value):
        raise DomainError("an NPC code has letters and digits only, up to 10 characters", field=field)
    return value


def parse_money(text: str | Decimal, *, field: str = "pack_price") -> Decimal:
    """An amount in GBP greater than 0 with at most 2 decimal places ('£1,234.50' is accepted)."""
    if isinstance(text, Decimal):
        value = text
    else:
        cleaned = str(text).strip().replace("£", "").replace(",", "")
        if not cleaned:
            raise DomainError("enter a price", field=field)
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise DomainError(f"'{text}' is not a price in pounds, for example 12.50", field=field) from None
    if not value.is_finite():
        raise DomainError("enter a price in pounds, for example 12.50", field=field)
    if value <= 0:
        raise DomainError("the price must be greater than 0", field=field)
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise DomainError("a price has at most 2 decimal places", field=field)
    if value > MAX_PACK_PRICE:
        raise DomainError("the price is too large", field=field)
    return value.quantize(Decimal("0.01"))


def parse_vat_rate(text: str | Decimal | int, *, field: str = "vat_rate") -> Decimal:
    """0, 5 or 20 (a trailing % is accepted)."""
    cleaned = str(text).strip().rstrip("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError("the VAT rate is 0, 5 or 20", field=field) from None
    if value not in VAT_RATES:
        raise DomainError(f"the VAT rate is 0, 5 or 20, not {cleaned}", field=field)
    return value.quantize(Decimal("1"))


def parse_whole(
    text: str | int | None, *, field: str, minimum: int, default: int | None = None, maximum: int = 10**9
) -> int | None:
    """A whole number at least `minimum`; blank gives `default` (or is an error when default is None
    and the caller needs a value: pass a default to make the field optional)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return default
    if isinstance(text, int):
        value = text
    else:
        cleaned = text.strip()
        # Spreadsheets turn 12 into "12.0"; accept that, refuse 12.5.
        if cleaned.endswith(".0"):
            cleaned = cleaned[:-2]
        if not cleaned.isdigit() or not cleaned.isascii():
            raise DomainError(f"enter a whole number, {minimum} or more", field=field)
        value = int(cleaned)
    if value < minimum:
        raise DomainError(f"enter a whole number, {minimum} or more", field=field)
    if value > maximum:
        raise DomainError(f"enter a whole number up to {maximum}", field=field)
    return value


def parse_yes_no(text: str | bool | None, *, field: str) -> bool:
    if isinstance(text, bool):
        return text
    value = (text or "").strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise DomainError("answer yes or no", field=field)


def parse_stock_status(text: str | None, *, field: str = "stock_status") -> str:
    value = (text or "").strip().lower()
    if not value:
        return StockStatus.IN_STOCK.value
    if value not in STOCK_STATUSES:
        raise DomainError(f"the stock status is one of {', '.join(StockStatus.values)}", field=field)
    return value


def parse_tiers(text: str | None, *, pack_price: Decimal | None, field: str = "tier_prices") -> list:
    """'100:12.50;500:11.90' as [(100, Decimal('12.50')), (500, Decimal('11.90'))], checked."""
    value = (text or "").strip().rstrip(";")
    if not value:
        return []
    tiers = []
    for part in value.split(";"):
        min_text, sep, price_text = part.strip().partition(":")
        if not sep:
            raise DomainError(
                f"'{part.strip()}' is not min_packs:pack_price, for example 100:12.50", field=field
            )
        min_packs = parse_whole(min_text, field=field, minimum=2)
        if min_packs is None:
            raise DomainError(f"'{part.strip()}' has no minimum number of packs", field=field)
        try:
            price = parse_money(price_text, field=field)
        except DomainError as error:
            raise DomainError(f"tier {min_packs}: {error.message}", field=field) from None
        tiers.append((min_packs, price))
    check_tiers(tiers, pack_price=pack_price, field=field)
    return tiers


def check_tiers(
    tiers: Sequence[tuple[int, Decimal]], *, pack_price: Decimal | None, field: str = "tiers"
) -> None:
    """Minimum packs rising (each at least 2), prices falling, each below the pack price."""
    previous: tuple[int, Decimal] | None = None
    most_packs = bounds.integer_range(VolumeTier, "min_packs")[1]
    for min_packs, price in tiers:
        if min_packs < 2:
            raise DomainError("a tier starts at 2 packs or more (1 pack is the pack price)", field=field)
        if min_packs > most_packs:
            raise DomainError(f"a tier starts at {most_packs} packs at most", field=field)
        if price <= 0:
            raise DomainError(f"tier {min_packs}: the price must be greater than 0", field=field)
        if pack_price is not None and price >= pack_price:
            raise DomainError(
                f"tier {min_packs}: the price {price} must be below the pack price {pack_price}", field=field
            )
        if previous is not None:
            if min_packs <= previous[0]:
                raise DomainError(
                    f"tiers are out of order: {min_packs} packs comes after {previous[0]}; "
                    "list minimum packs rising",
                    field=field,
                )
            if price >= previous[1]:
                raise DomainError(
                    f"tier {min_packs}: the price {price} must be below the price for {previous[0]} packs "
                    f"({previous[1]})",
                    field=field,
                )
        previous = (min_packs, price)


def text_fields_clean(
    *,
    supplier_sku: str,
    name: str,
    category_path: str,
    unit_of_measure: str,
    manufacturer: str,
    manufacturer_part_number: str,
    description: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """The offer's text fields normalised (spaces trimmed, the unit in lower case) and their problems."""
    values = {
        "supplier_sku": (supplier_sku or "").strip(),
        "name": " ".join((name or "").split()),
        "category_path": (category_path or "").strip(),
        "unit_of_measure": (unit_of_measure or "").strip().lower(),
        "manufacturer": (manufacturer or "").strip(),
        "manufacturer_part_number": (manufacturer_part_number or "").strip(),
        "description": (description or "").strip(),
    }
    errors: dict[str, str] = {}
    if not values["supplier_sku"]:
        errors["supplier_sku"] = "enter your SKU (your own code for this item)"
    elif len(values["supplier_sku"]) > SKU_MAX:
        errors["supplier_sku"] = f"a SKU has at most {SKU_MAX} characters"
    if not NAME_MIN <= len(values["name"]) <= NAME_MAX:
        errors["name"] = f"the name has {NAME_MIN} to {NAME_MAX} characters"
    if not values["category_path"]:
        errors["category_path"] = "choose a category"
    if not values["unit_of_measure"]:
        errors["unit_of_measure"] = "say what one unit is, for example each, pair or box"
    elif len(values["unit_of_measure"]) > 30:
        errors["unit_of_measure"] = "the unit of measure has at most 30 characters"
    if len(values["manufacturer"]) > 200:
        errors["manufacturer"] = "the manufacturer has at most 200 characters"
    if len(values["manufacturer_part_number"]) > 100:
        errors["manufacturer_part_number"] = "the part number has at most 100 characters"
    return values, errors


def offer_input_clean(data: OfferInput) -> OfferInput:
    """The input with identifiers normalised and every rule checked; OfferInvalid lists all problems."""
    changes, errors = text_fields_clean(
        supplier_sku=data.supplier_sku,
        name=data.name,
        category_path=data.category_path,
        unit_of_measure=data.unit_of_measure,
        manufacturer=data.manufacturer,
        manufacturer_part_number=data.manufacturer_part_number,
        description=data.description,
    )

    def attempt(name: str, parse, *args, **kwargs):
        try:
            return parse(*args, field=name, **kwargs)
        except DomainError as error:
            errors.setdefault(name, error.message)
            return None

    changes["gtin"] = attempt("gtin", parse_gtin, data.gtin)
    changes["npc"] = attempt("npc", parse_npc, data.npc)
    changes["units_per_pack"] = attempt("units_per_pack", parse_whole, data.units_per_pack, minimum=1)
    if changes["units_per_pack"] is None:
        errors.setdefault("units_per_pack", "enter a whole number, 1 or more")
    price = attempt("pack_price", parse_money, data.pack_price)
    changes["pack_price"] = price if price is not None else data.pack_price
    vat = attempt("vat_rate", parse_vat_rate, data.vat_rate)
    changes["vat_rate"] = vat if vat is not None else data.vat_rate
    changes["lead_time_days"] = attempt("lead_time_days", parse_whole, data.lead_time_days, minimum=0)
    changes["min_order_packs"] = attempt(
        "min_order_packs", parse_whole, data.min_order_packs, minimum=1, default=1
    )
    changes["stock_status"] = attempt("stock_status", parse_stock_status, data.stock_status)
    try:
        check_tiers(data.tiers, pack_price=price)
    except DomainError as error:
        errors["tiers"] = error.message
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        errors["valid_to"] = "the end date must be on or after the start date"
    if errors:
        raise OfferInvalid(errors)
    return dataclasses.replace(data, **changes)
