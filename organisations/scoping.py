"""Scope a queryset to the organisation a request acts for, in one line.

    offers = scoped(Offer.objects.all(), acting, field="supplier")

`field` is the lookup from the queryset's model to its owning organisation (a foreign key or a
path such as "job__organisation"). Someone acting for no organisation sees nothing, never
everything.
"""

from __future__ import annotations

from django.db.models import QuerySet

from organisations.acting import Acting


def scoped(queryset: QuerySet, acting: Acting, *, field: str = "organisation") -> QuerySet:
    """Only the rows owned by `acting.organisation`; none when it acts for no organisation."""
    if acting.organisation is None:
        return queryset.none()
    return queryset.filter(**{field: acting.organisation.pk})
