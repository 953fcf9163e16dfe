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

import django_filters
from django import forms
from django.core.exceptions import ValidationError
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


def _key_in_range(queryset: models.QuerySet, key: str | None, value: object) -> bool:
    """Whether `value` can be a key of the queryset's model at all: a number past the key column's
    range would overflow the database driver (a 500) rather than simply match nothing."""
    field = queryset.model._meta.get_field(key) if key else queryset.model._meta.pk
    limits = INTEGER_RANGES.get(field.get_internal_type())  # auto fields are in the table too
    if limits is None:
        return True  # a text key (a slug) cannot overflow
    low, high = limits
    try:
        number = int(str(value))
    except ValueError:
        return True  # not a number: the field's own check names it
    return low <= number <= high


class KeyInRangeMixin:
    """For a model choice field (Django's or django-filter's): an out-of-range key is an invalid
    choice, not a 500."""

    def to_python(self, value: object):
        if value not in self.empty_values and not _key_in_range(self.queryset, self.to_field_name, value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class KeysInRangeMixin:
    """For a model multiple-choice field: an out-of-range key is an invalid choice, not a 500."""

    def _check_values(self, value):
        for item in value or ():
            if not _key_in_range(self.queryset, self.to_field_name, item):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                )
        return super()._check_values(value)


class BoundedModelChoiceField(KeyInRangeMixin, forms.ModelChoiceField):
    pass


class BoundedModelMultipleChoiceField(KeysInRangeMixin, forms.ModelMultipleChoiceField):
    pass


class _FilterChoiceField(KeyInRangeMixin, django_filters.fields.ModelChoiceField):
    pass


class _FilterMultipleChoiceField(KeysInRangeMixin, django_filters.fields.ModelMultipleChoiceField):
    pass


class BoundedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """django-filter's ModelChoiceFilter, refusing an out-of-range key as an invalid choice."""

    field_class = _FilterChoiceField


class BoundedModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """django-filter's ModelMultipleChoiceFilter, refusing out-of-range keys as invalid choices."""

    field_class = _FilterMultipleChoiceField
