"""The search engine's vocabulary: what an app declares it indexes, what a query asks, what comes back.

Apps above `search` (the catalogue) describe their documents with these dataclasses and register
them in `search.registry`; the engine never imports those apps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Weight(StrEnum):
    """Relative importance of a text field, as PostgreSQL's setweight letters (A is highest)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


@dataclass(frozen=True)
class TextField:
    name: str
    weight: Weight = Weight.D


@dataclass(frozen=True)
class FacetField:
    """A field buyers narrow results by and see counts for. Values are short strings (ids, codes)."""

    name: str
    label: str
    # Labels for a fixed set of values (price bands, stock states); others are resolved by the caller.
    value_labels: Mapping[str, str] = field(default_factory=dict)


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    PRICE_LOW = "price"
    PRICE_HIGH = "-price"
    TITLE = "title"


@dataclass(frozen=True)
class Document:
    """One searchable object, flattened by its owner app."""

    object_type: str
    object_id: int
    title: str
    text: Mapping[str, str]
    codes: Sequence[str] = ()
    facets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    price: Decimal | None = None
    # Changes whenever the source changes; the reconcile task compares it with the index.
    version: str = ""


@dataclass(frozen=True)
class DocumentType:
    """What an app indexes and how to load it. `load` returns documents for the ids that should be
    searchable (missing ids are removed from the index); `versions` yields (id, version) for every
    object that should be searchable."""

    name: str
    text_fields: tuple[TextField, ...]
    facet_fields: tuple[FacetField, ...]
    load: Callable[[Sequence[int]], Iterable[Document]]
    versions: Callable[[], Iterable[tuple[int, str]]]
    code_fields: tuple[str, ...] = ()

    def facet(self, name: str) -> FacetField | None:
        return next((f for f in self.facet_fields if f.name == name), None)

    def weight_of(self, text_field: str) -> Weight:
        return next((f.weight for f in self.text_fields if f.name == text_field), Weight.D)


@dataclass(frozen=True)
class SearchQuery:
    """A buyer's search. `filters` maps a facet name to the values accepted (any of them)."""

    text: str = ""
    object_type: str = "product"
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    sort: SortOrder = SortOrder.RELEVANCE
    offset: int = 0
    limit: int = 20
    with_facets: bool = True
    correct_typos: bool = True


@dataclass(frozen=True)
class Hit:
    object_id: int
    title: str
    score: float


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int
    label: str = ""


@dataclass(frozen=True)
class SearchResults:
    """A page of hits, the total of all matches and, per facet, the exact count of every value among
    all matches (every backend counts exactly, however many match)."""

    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    # The words actually searched after typo correction, when they differ from what was typed.
    corrected_text: str | None = None
    # Words to highlight in titles: what was typed plus synonyms and corrections.
    highlight_terms: tuple[str, ...] = ()
    offset: int = 0
    limit: int = 20

    @property
    def ids(self) -> list[int]:
        return [hit.object_id for hit in self.hits]


@dataclass(frozen=True)
class Suggestion:
    object_id: int
    title: str


@dataclass(frozen=True)
class IdentifierMatch:
    """An exact identifier (GTIN, NPC, SKU, part number) that names exactly one object."""

    object_type: str
    object_id: int
    code: str


class InvalidSearch(ValueError):
    """The query asks for something the engine does not know (an undeclared facet, a bad sort)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SearchUnavailable(RuntimeError):
    """The engine cannot answer (down, unreachable, not migrated)."""
