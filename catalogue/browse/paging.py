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
    def __init__(self, object_list, per_page, *args, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count

    def page(self, number) -> Page:
        keys = getattr(self.object_list, "page_keys", None)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        near = getattr(self.object_list, "page_keys_near", None)
        if keys is None or bottom < (NEAR if near is None else near):
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(keys[bottom:top])
        return self._get_page(list(self.object_list.filter(id__in=ids)), number, self)
