"""Pages of a product list whose count is known already (from the browse rows or the facets), so the
paginator does not count the list again with its joins; and, when the list says which browse rows
order it (`page_keys`, from `catalogue.selectors.product_list`), a page's products found by skipping
the offset in those rows' index first, then joining only that page's products (a "deferred join":
page 50 joins 20 products, not 1,000). A list may ask for it from its first page (`page_keys_near`
0: a list grouped from the offers' rows, whose join would otherwise read every matching product)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property

# Pages starting within this many rows are one statement (the join walks few rows to skip); past it,
# two (the page's keys, then its products).
NEAR = 200


class CountedPaginator(Paginator):
    """`count`: the list's length, or None while it is not known yet, when only the first page can be
    asked for (its products are the list's first `per_page` whatever the count)."""

    def __init__(self, object_list, per_page, *args, count: int | None, **kwargs) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        if self._known_count is None:
            raise ValueError("The list's count is not known yet: only its first page can be read.")
        return self._known_count

    def page(self, number) -> Page:
        if self._known_count is None:
            if number != 1:
                raise ValueError("Only the first page can be read before the count is known.")
            bottom, top = 0, self.per_page
        else:
            number = self.validate_number(number)
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
        keys = getattr(self.object_list, "page_keys", None)
        near = getattr(self.object_list, "page_keys_near", None)
        if keys is None or bottom < (NEAR if near is None else near):
            return self._get_page(self.object_list[bottom:top], number, self)
        ids = list(keys[bottom:top])
        return self._get_page(list(self.object_list.filter(id__in=ids)), number, self)
