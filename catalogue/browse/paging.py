"""Pages of a product list whose count is known already (from the browse rows or the facets), so the
paginator does not count the list again with its joins."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    def __init__(self, object_list, per_page, *args, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count
