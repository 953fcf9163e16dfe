"""Matching purchase-history lines to catalogue products, in bulk.

Order of preference: GTIN, NPC code, supplier SKU (a live offer's, else any offer's), manufacturer
part number, then the trust's own remembered mappings. A code that points at more than one product
matches none, so that a guess never skews the analytics. All look-ups are loaded up front in a few
queries per kind, whatever the number of lines.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models.functions import Upper

from catalogue.models import Offer, OfferStatus, Product
from common import gs1
from pricing.models import IdentifierKind, ProductMapping

CHUNK = 2000


def normalise_code(raw: str) -> str:
    return raw.strip().upper()


def normalise_description(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.strip().lower())


def normalise(kind: str, raw: str) -> str:
    if kind == IdentifierKind.GTIN:
        return gs1.gtin14(raw)
    if kind == IdentifierKind.DESCRIPTION:
        return normalise_description(raw)
    return normalise_code(raw)


@dataclass(frozen=True)
class Identifiers:
    """What a line carries to be matched by (already normalised)."""

    trust_id: int
    gtin: str = ""
    npc: str = ""
    supplier_sku: str = ""
    manufacturer_part_number: str = ""
    description: str = ""

    def value(self, kind: str) -> str:
        return getattr(self, kind)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _unique(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """{code: product} for codes that point at exactly one product."""
    found: dict[str, set[int]] = defaultdict(set)
    for code, product_id in pairs:
        found[normalise_code(code)].add(product_id)
    return {code: next(iter(ids)) for code, ids in found.items() if len(ids) == 1}


class Matcher:
    """Built once for a batch of lines; then `match` answers without further queries."""

    def __init__(self, lines: Sequence[Identifiers]) -> None:
        gtins = sorted({line.gtin for line in lines if line.gtin})
        npcs = sorted({line.npc for line in lines if line.npc})
        skus = sorted({line.supplier_sku for line in lines if line.supplier_sku})
        mpns = sorted({line.manufacturer_part_number for line in lines if line.manufacturer_part_number})
        self.by_gtin: dict[str, int] = {}
        for chunk in _chunks(gtins):
            self.by_gtin.update(Product.objects.filter(gtin__in=chunk).values_list("gtin", "id"))
        self.by_npc: dict[str, int] = {}
        for chunk in _chunks(npcs):
            found = Product.objects.annotate(code=Upper("npc")).filter(code__in=chunk)
            self.by_npc.update(_unique(found.values_list("npc", "id")))
        live: list[tuple[str, int]] = []
        other: list[tuple[str, int]] = []
        for chunk in _chunks(skus):
            offers = Offer.objects.annotate(code=Upper("supplier_sku")).filter(code__in=chunk)
            for sku, product_id, status in offers.values_list("supplier_sku", "product_id", "status"):
                (live if status == OfferStatus.LIVE else other).append((sku, product_id))
        self.by_live_sku = _unique(live)
        self.by_any_sku = _unique(live + other)
        self.by_mpn: dict[str, int] = {}
        for chunk in _chunks(mpns):
            found = Product.objects.annotate(code=Upper("manufacturer_part_number")).filter(code__in=chunk)
            self.by_mpn.update(_unique(found.values_list("manufacturer_part_number", "id")))
        trust_ids = {line.trust_id for line in lines}
        self.mappings: dict[tuple[int, str, str], int] = {
            (trust_id, kind, value): product_id
            for trust_id, kind, value, product_id in ProductMapping.objects.filter(
                trust_id__in=trust_ids
            ).values_list("trust_id", "kind", "value", "product_id")
        }

    def match(self, line: Identifiers) -> int | None:
        if line.gtin and line.gtin in self.by_gtin:
            return self.by_gtin[line.gtin]
        if line.npc and line.npc in self.by_npc:
            return self.by_npc[line.npc]
        if line.supplier_sku:
            found = self.by_live_sku.get(line.supplier_sku) or self.by_any_sku.get(line.supplier_sku)
            if found:
                return found
        if line.manufacturer_part_number and line.manufacturer_part_number in self.by_mpn:
            return self.by_mpn[line.manufacturer_part_number]
        for kind in IdentifierKind.values:
            value = line.value(kind)
            if value and (line.trust_id, kind, value) in self.mappings:
                return self.mappings[(line.trust_id, kind, value)]
        return None
