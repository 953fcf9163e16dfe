"""Demo purchase history: two years of orders by several trusts, with the seed's example of one trust
paying about 40% more than another for the same anti-embolism stockings. Idempotent.

Runs after the organisations and catalogue seeds and uses the trusts and products they made; run
alone, it makes a few of its own (keyed on ODS code and slug).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from catalogue.models import Category, Product
from organisations.models import Organisation, OrganisationKind, Region
from pricing import analytics
from pricing.imports import CheckedLine
from pricing.services import purchase_lines_write

DEMO_TRUSTS = [
    ("RJ1", "Guy's and St Thomas' NHS Foundation Trust", Region.LONDON),
    ("RRV", "University College London Hospitals NHS Foundation Trust", Region.LONDON),
    ("RTH", "Oxford University Hospitals NHS Foundation Trust", Region.SOUTH_EAST),
    ("R0A", "Manchester University NHS Foundation Trust", Region.NORTH_WEST),
    ("RX1", "Nottingham University Hospitals NHS Trust", Region.MIDLANDS),
    ("RR8", "Leeds Teaching Hospitals NHS Trust", Region.NORTH_EAST_AND_YORKSHIRE),
]
# (slug, name, units per pack, list price per unit in GBP)
DEMO_PRODUCTS = [
    ("anti-embolism-stockings-thigh-m", "Anti-embolism stockings, thigh length, medium", 1, "4.20"),
    ("anti-embolism-stockings-knee-m", "Anti-embolism stockings, knee length, medium", 1, "3.10"),
    ("nitrile-examination-gloves-m", "Nitrile examination gloves, medium", 100, "0.045"),
    ("sterile-gauze-swabs-10cm", "Sterile gauze swabs, 10 cm x 10 cm", 5, "0.09"),
    ("foam-dressing-10cm", "Silicone foam dressing, 10 cm x 10 cm", 10, "1.85"),
    ("iv-cannula-20g", "IV cannula, 20 G, pink", 50, "0.62"),
    ("syringe-10ml-luer-lock", "Syringe, 10 ml, Luer lock", 100, "0.07"),
    ("incontinence-pad-super", "Incontinence pad, super absorbency", 28, "0.31"),
]
MONTHS = 24


def _trusts(stdout) -> list[Organisation]:
    trusts = list(
        Organisation.objects.filter(kind=OrganisationKind.TRUST, is_active=True).order_by("ods_code")
    )
    if len(trusts) >= 3:
        return trusts[:8]
    for ods, name, region in DEMO_TRUSTS:
        Organisation.objects.update_or_create(
            ods_code=ods,
            defaults={"kind": OrganisationKind.TRUST, "name": name, "slug": ods.lower(), "region": region},
        )
    stdout.write("  pricing: created demo trusts")
    return list(Organisation.objects.filter(ods_code__in=[t[0] for t in DEMO_TRUSTS]).order_by("ods_code"))


def _category() -> Category:
    root, _ = Category.objects.get_or_create(
        slug="clinical-consumables", defaults={"name": "Clinical consumables"}
    )
    hosiery, _ = Category.objects.get_or_create(slug="hosiery", defaults={"name": "Hosiery", "parent": root})
    return hosiery


def _products() -> list[tuple[Product, Decimal]]:
    """Products with a plausible list price per unit: the demo's own, plus any the catalogue has."""
    found = []
    category = None
    for slug, name, units_per_pack, price in DEMO_PRODUCTS:
        product = Product.objects.filter(slug=slug).first()
        if product is None:
            same_name = Product.objects.filter(name__iexact=name).first()
            if same_name is not None:
                product = same_name
            else:
                category = category or _category()
                product, _ = Product.objects.update_or_create(
                    slug=slug,
                    defaults={"name": name, "category": category, "units_per_pack": units_per_pack},
                )
        found.append((product, Decimal(price)))
    known = {p.pk for p, _ in found}
    for product in Product.objects.filter(is_active=True).exclude(pk__in=known).order_by("id")[:20]:
        offer = product.offers.order_by("pack_price").first()
        if offer is not None:
            found.append((product, offer.pack_price / offer.units_per_pack))
    return found


def seed(stdout) -> None:
    trusts = _trusts(stdout)
    products = _products()
    rng = random.Random(20260314)  # the same history every time
    today = dt.date.today()
    lines: list[CheckedLine] = []
    product_ids: dict[int, int] = {}
    # Each trust has its own negotiating strength; the second pays ~40% more than the first for stockings.
    markups = [Decimal("1.00"), Decimal("1.40")] + [
        Decimal(str(round(rng.uniform(0.95, 1.3), 2))) for _ in trusts[2:]
    ]
    for trust, markup in zip(trusts, markups, strict=True):
        for month in range(MONTHS):
            index = today.year * 12 + today.month - 1 - month
            day = min(dt.date(index // 12, index % 12 + 1, 4), today)
            for number, (product, unit_price) in enumerate(products, start=1):
                if rng.random() < 0.25:
                    continue  # not every product every month
                units_per_pack = product.units_per_pack or 1
                noise = Decimal(str(round(rng.uniform(0.97, 1.03), 3)))
                pack_price = (unit_price * units_per_pack * markup * noise).quantize(Decimal("0.0001"))
                row = len(lines) + 1
                lines.append(
                    CheckedLine(
                        row=row,
                        trust_id=trust.pk,
                        order_reference=f"DEMO-{trust.ods_code}-{day:%Y%m}",
                        line_number=number,
                        order_date=day,
                        supplier_name="Example Medical Supplies",
                        gtin="",
                        npc="",
                        supplier_sku=f"DEMO-{product.pk}",
                        manufacturer_part_number="",
                        description=product.name,
                        quantity_packs=Decimal(rng.randint(2, 40)),
                        units_per_pack=units_per_pack,
                        pack_price=pack_price,
                    )
                )
                product_ids[row] = product.pk
        # A few local codes no catalogue product carries: the trust maps them by hand.
        for number, (code, text) in enumerate(
            [("LOC-5531", "Tubigrip shaped support bandage, size D"), ("LOC-7310", "Bed pan liners, pulp")],
            start=1,
        ):
            lines.append(
                CheckedLine(
                    row=len(lines) + 1,
                    trust_id=trust.pk,
                    order_reference=f"DEMO-{trust.ods_code}-LOCAL",
                    line_number=number,
                    order_date=today - dt.timedelta(days=20 * number),
                    supplier_name="Local supplier",
                    gtin="",
                    npc="",
                    supplier_sku=code,
                    manufacturer_part_number="",
                    description=text,
                    quantity_packs=Decimal(5),
                    units_per_pack=10,
                    pack_price=Decimal("7.50"),
                )
            )
    summary = purchase_lines_write(lines=lines, source="erp_import", product_ids=product_ids)
    analytics.summaries_refresh(full=True)
    stdout.write(
        f"  pricing: {summary['lines']} purchase-history lines for {len(trusts)} trusts "
        f"({summary['unmatched']} left to map by hand); analytics refreshed"
    )
