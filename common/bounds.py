"""Input bounds derived from the model field a value is stored in, so nothing that passes a form,
a serializer or a file check can overflow its column (a 500 from the database).

    serializers.IntegerField(**bounds.integer(VolumeTier, "min_packs", min_value=2))
    forms.IntegerField(**bounds.integer(Offer, "lead_time_days"))
    serializers.DecimalField(**bounds.decimal(Offer, "pack_price"))

Integer ranges are the ones Django documents as safe on every supported database (PostgreSQL's
`integer` is the narrowest); decimal bounds are the column's `max_digits` and `decimal_places`,
and `decimal_max` is the largest value that fits them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    # A foreign key holds its target's key: its bounds are the target column's.
    if field.is_relation:
        return field.target_field
    # A generated column is bounded by its output field.
    if isinstance(field, models.GeneratedField):
        return field.output_field
    return field


def integer_range(model: type[models.Model], name: str) -> tuple[int, int]:
    """The lowest and highest whole number the column holds."""
    field = _field(model, name)
    internal = field.get_internal_type()
    if internal not in INTEGER_RANGES:
        raise TypeError(f"{model.__name__}.{name} is not an integer field ({internal})")
    return INTEGER_RANGES[internal]


def integer(
    model: type[models.Model], name: str, *, min_value: int | None = None, max_value: int | None = None
) -> dict:
    """`min_value`/`max_value` for a form or serializer IntegerField: the column's range, narrowed
    (never widened) by the business rule's own limits."""
    low, high = integer_range(model, name)
    return {
        "min_value": low if min_value is None else max(low, min_value),
        "max_value": high if max_value is None else min(high, max_value),
    }


def decimal(model: type[models.Model], name: str, *, min_value: Decimal | int | None = None) -> dict:
    """`max_digits`/`decimal_places` (and `max_value`, `min_value`) for a DecimalField."""
    field = _field(model, name)
    if not isinstance(field, models.DecimalField):
        raise TypeError(f"{model.__name__}.{name} is not a DecimalField")
    kwargs: dict = {
        "max_digits": field.max_digits,
        "decimal_places": field.decimal_places,
        "max_value": decimal_max(model, name),
    }
    if min_value is not None:
        kwargs["min_value"] = Decimal(min_value)
    return kwargs


def decimal_max(model: type[models.Model], name: str) -> Decimal:
    """The largest value the column holds: max_digits nines with decimal_places after the point."""
    field = _field(model, name)
    whole = field.max_digits - field.decimal_places
    return Decimal(f"{'9' * whole or '0'}.{'9' * field.decimal_places}")
