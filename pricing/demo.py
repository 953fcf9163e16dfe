"""Demo purchase history: two years of orders by every demo trust, with the seed's example of one
trust paying about 40% more than another for the same anti-embolism stockings. Idempotent.

Runs after the organisations and catalogue seeds and uses the trusts and products they made: the
products are the catalogue's own (same names, categories and offers), so a product's analytics page
and its catalogue page with the peer-prices panel are the same product. The trusts that have demo
users (Leeds, Guy's and St Thomas', York and Scarborough) are always among the buyers, and pay more
than the best, so their dashboards, reports and peer prices are full on first sign-in. Without the
catalogue seed, it makes its few products through the catalogue's service (in the catalogue's
categories); the trusts are always the organisations seed's. Like every app's demo, it writes only its
own app's rows (the `model_writes` contract in pyproject.toml).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.management import CommandError
from django.utils.text import slugify

from catalogue.models import Product
from catalogue.services import product_ensure, products_remove_unoffered
from organisations.models import Organisation, OrganisationKind
from pricing import analytics
from pricing.imports import CheckedLine
from pricing.models import PurchaseHistoryLine
from pricing.services import purchase_lines_write

# The trusts the demo users act for, and how much more than the cheapest trust each pays: Leeds is
# the seed's example of paying about 40% more. York (with Leeds, the trusts of the demo's buyer for
# two trusts) pays less than Leeds, so switching between them changes every figure.
USER_TRUST_MARKUPS = {"RR8": Decimal("1.40"), "RJ1": Decimal("1.20"), "RCB": Decimal("1.10")}
# The catalogue demo's products (catalogue/demo.py), by name: (name, category path, units per pack,
# list price per unit in GBP). The slug is the catalogue's, slugify(name).
DEMO_PRODUCTS = [
    (
        "Anti-embolism stocking, thigh length, medium, regular",
        "Clinical consumables > Hosiery > Anti-embolism stockings",
        1,
        "4.20",
    ),
    (
        "Anti-embolism stocking, knee length, medium, regular",
        "Clinical consumables > Hosiery > Anti-embolism stockings",
        1,
        "3.10",
    ),
    (
        "Examination gloves, nitrile, powder free, medium",
        "Clinical consumables > Gloves > Examination gloves > Nitrile",
        100,
        "0.045",
    ),
    ("Low adherent dressing, 10 cm x 10 cm", "Wound care > Dressings > Absorbent pads", 10, "0.19"),
    (
        "Silicone foam dressing, bordered, 10 cm x 10 cm",
        "Wound care > Dressings > Foam dressings",
        10,
        "1.85",
    ),
    ("IV cannula, 20 G, pink", "Clinical consumables > Vascular access > IV cannulas", 50, "0.62"),
    (
        "Syringe, 10 ml, luer lock, sterile, single use",
        "Clinical consumables > Syringes and needles > Syringes",
        100,
        "0.07",
    ),
    ("Shaped insert pad, super", "Continence > Pads > Insert pads", 28, "0.31"),
]
STOCKINGS_SLUG = slugify(DEMO_PRODUCTS[0][0])
# Products earlier versions of this seed made for themselves (all in Hosiery, none the catalogue's).
# Their lines are rewritten to the catalogue's products; then, with no offers and no lines, they go.
LEGACY_SLUGS = [
    "anti-embolism-stockings-thigh-m",
    "anti-embolism-stockings-knee-m",
    "nitrile-examination-gloves-m",
    "sterile-gauze-swabs-10cm",
    "foam-dressing-10cm",
    "iv-cannula-20g",
    "syringe-10ml-luer-lock",
    "incontinence-pad-super",
]
MONTHS = 24
MAX_TRUSTS = 25


def _trusts() -> list[Organisation]:
    """The trusts with demo users first, then the others by ODS code: the organisations seed's."""
    trusts = list(
        Organisation.objects.filter(kind=OrganisationKind.TRUST, is_active=True).order_by("ods_code")
    )
    if len(trusts) < 3:
        raise CommandError(
            "The demo purchase history needs the demo trusts: run `manage.py seed_demo`, which loads "
            "the organisations first."
        )
    with_users = [t for t in trusts if t.ods_code in USER_TRUST_MARKUPS]
    return (with_users + [t for t in trusts if t.ods_code not in USER_TRUST_MARKUPS])[:MAX_TRUSTS]


def _products() -> list[tuple[Product, Decimal]]:
    """Products with a plausible list price per unit: the catalogue's demo products (made here, in the
    catalogue's categories, when the catalogue seed has not run), plus others the catalogue sells."""
    found = []
    for name, category_path, units_per_pack, price in DEMO_PRODUCTS:
        product = product_ensure(
            slug=slugify(name), name=name, category_path=category_path, units_per_pack=units_per_pack
        )
        found.append((product, Decimal(price)))
    known = {p.pk for p, _ in found}
    for product in Product.objects.filter(is_active=True).exclude(pk__in=known).order_by("id")[:20]:
        offer = product.offers.order_by("pack_price").first()
        if offer is not None:
            found.append((product, offer.pack_price / offer.units_per_pack))
    return found


def _legacy_lines_move(
    *, lines: list[CheckedLine], product_ids: dict[int, int], products: list[Product]
) -> None:
    """Lines an earlier seed wrote for its own products and this run does not rewrite: the same lines
    again, matched to the catalogue's product in the same place of DEMO_PRODUCTS."""
    written = {(line.trust_id, line.order_reference, line.line_number) for line in lines}
    instead = dict(zip(LEGACY_SLUGS, products[: len(LEGACY_SLUGS)], strict=True))
    legacy = PurchaseHistoryLine.objects.filter(
        product__slug__in=LEGACY_SLUGS, order_reference__startswith="DEMO-"
    ).select_related("product")
    for old in legacy:
        if (old.trust_id, old.order_reference, old.line_number) in written:
            continue
        row = len(lines) + 1
        lines.append(
            CheckedLine(
                row=row,
                trust_id=old.trust_id,
                order_reference=old.order_reference,
                line_number=old.line_number,
                order_date=old.order_date,
                supplier_name=old.supplier_name,
                gtin=old.gtin,
                npc=old.npc,
                supplier_sku=old.supplier_sku,
                manufacturer_part_number=old.manufacturer_part_number,
                description=instead[old.product.slug].name,
                quantity_packs=old.quantity_packs,
                units_per_pack=old.units_per_pack,
                pack_price=old.pack_price,
            )
        )
        product_ids[row] = instead[old.product.slug].pk


def _legacy_products_remove() -> None:
    """The old products no line points to any more go; the catalogue keeps any a supplier offers."""
    unused = Product.objects.filter(slug__in=LEGACY_SLUGS, purchase_lines__isnull=True).distinct()
    products_remove_unoffered(product_ids=unused.values_list("pk", flat=True))


def seed(stdout) -> None:
    trusts = _trusts()
    products = _products()
    rng = random.Random(20260314)  # the same history every time
    today = dt.date.today()
    lines: list[CheckedLine] = []
    product_ids: dict[int, int] = {}
    # Each trust has its own negotiating strength. The first trust without demo users pays the list
    # price; the users' trusts pay more (Leeds about 40% more), the others somewhere in between.
    cheapest = next(t for t in trusts if t.ods_code not in USER_TRUST_MARKUPS)
    markups = {
        trust.pk: USER_TRUST_MARKUPS.get(trust.ods_code)
        or (Decimal("1.00") if trust == cheapest else Decimal(str(round(rng.uniform(1.02, 1.3), 2))))
        for trust in trusts
    }
    for trust in trusts:
        markup = markups[trust.pk]
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
    _legacy_lines_move(lines=lines, product_ids=product_ids, products=[p for p, _ in products])
    summary = purchase_lines_write(lines=lines, source="erp_import", product_ids=product_ids)
    _legacy_products_remove()
    analytics.summaries_refresh(full=True)
    stdout.write(
        f"  pricing: {summary['lines']} purchase-history lines for {len(trusts)} trusts "
        f"({summary['unmatched']} left to map by hand); analytics refreshed"
    )
