"""Matching a supplier's offer to the canonical product it is for.

The rule: by GTIN, then NPC code, then manufacturer (case-insensitive) + part number; if none
matches, a new product is made. When the identifiers point at different products (the GTIN at
one, the NPC at another) the offer is refused with a conflict naming the fields: matching never
guesses, because a wrong match puts one supplier's price beside another item.

`ProductIndex` holds the identifier maps in memory, so the importer matches 100,000 rows after a
few queries (long lists of identifiers staged in a temporary table, not written into the SQL), and
products planned earlier in the same batch are matched by later rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models.functions import Lower

from catalogue.models import Product
from common.errors import Conflict
from common.staging import Staging

IDENTIFIER_LABELS = {"gtin": "GTIN", "npc": "NPC", "part": "manufacturer and part number"}
IDENTIFIER_FIELDS = {"gtin": "gtin", "npc": "npc", "part": "manufacturer_part_number"}


class IdentifierConflict(Conflict):
    """The offer's identifiers disagree with the catalogue; `fields` names the ones at odds."""

    code = "identifier_conflict"

    def __init__(self, message: str, *, fields: tuple[str, ...]) -> None:
        super().__init__(message, field=fields[-1])
        self.fields = fields


@dataclass(frozen=True, slots=True)
class ProductKeys:
    """An offer's product identifiers, already normalised (GTIN as 14 digits, NPC in capitals)."""

    gtin: str | None = None
    npc: str | None = None
    manufacturer: str = ""
    manufacturer_part_number: str = ""

    @property
    def part(self) -> tuple[str, str] | None:
        if self.manufacturer and self.manufacturer_part_number:
            return (self.manufacturer.lower(), self.manufacturer_part_number)
        return None

    @property
    def is_empty(self) -> bool:
        return not (self.gtin or self.npc or self.part)


@dataclass(eq=False, slots=True)
class KnownProduct:
    """A product as the index knows it: a saved one (`id`) or one planned in this batch (`id` None)."""

    id: int | None
    name: str
    keys: ProductKeys
    # For planned products: what to create them from (the planner's latest row for them).
    planned: Any = None

    def describe(self) -> str:
        return f"product {self.id} ({self.name})" if self.id else f"the new product '{self.name}'"


@dataclass(frozen=True)
class Match:
    product: KnownProduct | None
    matched_by: str | None = None
    # Identifiers the input gives that the matched product holds with another value.
    disagreements: tuple[str, ...] = ()

    def disagreement_error(self, keys: ProductKeys) -> IdentifierConflict:
        assert self.product is not None and self.matched_by is not None
        stored = self.product.keys
        parts = []
        for name in self.disagreements:
            ours = _key_text(keys, name)
            theirs = _key_text(stored, name)
            parts.append(f"its {IDENTIFIER_LABELS[name]} is {theirs}, not {ours}")
        message = (
            f"the {IDENTIFIER_LABELS[self.matched_by]} {_key_text(keys, self.matched_by)} is "
            f"{self.product.describe()}, but {'; '.join(parts)}. "
            "Check the identifiers; matching never guesses."
        )
        fields = (IDENTIFIER_FIELDS[self.matched_by], *(IDENTIFIER_FIELDS[n] for n in self.disagreements))
        return IdentifierConflict(message, fields=fields)


def _key_text(keys: ProductKeys, name: str) -> str:
    if name == "part":
        return f"{keys.manufacturer} {keys.manufacturer_part_number}"
    return str(getattr(keys, name))


class ProductIndex:
    """In-memory maps from identifiers to products, loaded for the identifiers of a batch."""

    def __init__(self) -> None:
        self.by_gtin: dict[str, KnownProduct] = {}
        self.by_npc: dict[str, KnownProduct] = {}
        self.by_part: dict[tuple[str, str], KnownProduct] = {}
        self.by_id: dict[int, KnownProduct] = {}

    @classmethod
    def for_keys(cls, keys: Iterable[ProductKeys], *, product_ids: Iterable[int] = ()) -> ProductIndex:
        """An index of every product that any of these identifiers (or ids) points at: a few queries."""
        index = cls()
        index.load(keys, product_ids=product_ids)
        return index

    def load(
        self, keys: Iterable[ProductKeys], *, product_ids: Iterable[int] = (), staging: Staging | None = None
    ) -> None:
        """Add the products these identifiers (or ids) point at; products already known are kept.

        Long lists of identifiers are staged (`common.staging`) rather than written into the SQL;
        pass the caller's `staging` to keep its tables in its block."""
        if staging is None:
            with Staging() as own:
                self.load(keys, product_ids=product_ids, staging=own)
            return
        gtins: set[str] = set()
        npcs: set[str] = set()
        part_numbers: set[str] = set()
        parts: set[tuple[str, str]] = set()
        for key in keys:
            if key.gtin:
                gtins.add(key.gtin)
            if key.npc:
                npcs.add(key.npc)
            if key.part:
                part_numbers.add(key.manufacturer_part_number)
                parts.add(key.part)
        gtins -= self.by_gtin.keys()  # already known from an earlier block
        npcs -= self.by_npc.keys()
        ids = set(product_ids) - self.by_id.keys()
        # Plain tuples, not model instances: a whole catalogue's products load in seconds.
        columns = ("id", "name", "gtin", "npc", "manufacturer", "manufacturer_part_number")
        base = Product.objects.order_by().values_list(*columns)
        # One statement for all three, each part able to use its own index.
        wanted = [
            base.filter(**{lookup: staging.values(values, kind=kind)})
            for lookup, values, kind in (
                ("gtin__in", gtins, "text"),
                ("npc__in", npcs, "text"),
                ("id__in", ids, "integer"),
            )
            if values
        ]
        if wanted:
            for row in wanted[0].union(*wanted[1:]) if len(wanted) > 1 else wanted[0]:
                self.add_saved(*row)
        if part_numbers:
            rows = (
                Product.objects.order_by()
                .annotate(manufacturer_lower=Lower("manufacturer"))
                .filter(manufacturer_part_number__in=staging.values(part_numbers, kind="text"))
                .values_list(*columns, "manufacturer_lower")
            )
            for *row, manufacturer_lower in rows:
                if (manufacturer_lower, row[5]) in parts:
                    self.add_saved(*row)

    def add_saved(
        self, pk: int, name: str, gtin: str | None, npc: str | None, manufacturer: str, part_number: str
    ) -> KnownProduct:
        known = self.by_id.get(pk)
        if known is None:
            keys = ProductKeys(
                gtin=gtin, npc=npc, manufacturer=manufacturer, manufacturer_part_number=part_number
            )
            known = KnownProduct(id=pk, name=name, keys=keys)
            self.add(known)
        return known

    def add(self, known: KnownProduct) -> None:
        """Register a product so later lookups find it (a planned product, or one whose keys changed)."""
        keys = known.keys
        if keys.gtin:
            self.by_gtin[keys.gtin] = known
        if keys.npc:
            self.by_npc[keys.npc] = known
        if keys.part:
            self.by_part[keys.part] = known
        if known.id is not None:
            self.by_id[known.id] = known

    def rekey(self, known: KnownProduct, keys: ProductKeys) -> None:
        """A product's identifiers change (its only supplier corrected them): move it in the maps."""
        old = known.keys
        if old.gtin and self.by_gtin.get(old.gtin) is known:
            del self.by_gtin[old.gtin]
        if old.npc and self.by_npc.get(old.npc) is known:
            del self.by_npc[old.npc]
        if old.part and self.by_part.get(old.part) is known:
            del self.by_part[old.part]
        known.keys = keys
        self.add(known)

    def match(self, keys: ProductKeys) -> Match:
        """The product these identifiers point at, or an empty Match; IdentifierConflict if they disagree."""
        hits: list[tuple[str, KnownProduct]] = []
        if keys.gtin and keys.gtin in self.by_gtin:
            hits.append(("gtin", self.by_gtin[keys.gtin]))
        if keys.npc and keys.npc in self.by_npc:
            hits.append(("npc", self.by_npc[keys.npc]))
        if keys.part and keys.part in self.by_part:
            hits.append(("part", self.by_part[keys.part]))
        if not hits:
            return Match(product=None)
        first_name, product = hits[0]
        for name, other in hits[1:]:
            if other is not product:
                raise IdentifierConflict(
                    f"the {IDENTIFIER_LABELS[first_name]} {_key_text(keys, first_name)} is "
                    f"{product.describe()} but the {IDENTIFIER_LABELS[name]} {_key_text(keys, name)} is "
                    f"{other.describe()}. Check the identifiers; matching never guesses.",
                    fields=(IDENTIFIER_FIELDS[first_name], IDENTIFIER_FIELDS[name]),
                )
        # GTINs and NPCs come from registries, so a different one is a real disagreement; part
        # numbers are typed freely ("MDS-1", "MDS1") and do not overrule a GTIN or NPC match.
        stored = product.keys
        disagreements = tuple(
            name
            for name in ("gtin", "npc")
            if getattr(keys, name) and getattr(stored, name) and getattr(keys, name) != getattr(stored, name)
        )
        return Match(product=product, matched_by=first_name, disagreements=disagreements)


def product_match(
    *,
    gtin: str | None = None,
    npc: str | None = None,
    manufacturer: str = "",
    manufacturer_part_number: str = "",
) -> Product | None:
    """The saved product these (normalised) identifiers match, or None; IdentifierConflict if they
    point at different products or the matched product holds one of them with another value."""
    keys = ProductKeys(
        gtin=gtin, npc=npc, manufacturer=manufacturer, manufacturer_part_number=manufacturer_part_number
    )
    if keys.is_empty:
        return None
    found = ProductIndex.for_keys([keys]).match(keys)
    if found.product is None:
        return None
    if found.disagreements:
        raise found.disagreement_error(keys)
    return Product.objects.get(pk=found.product.id)
