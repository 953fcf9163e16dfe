"""Demo catalogue for `seed_demo`: a few hundred realistic products across the category tree,
offered by several suppliers at different prices, pack sizes and volume tiers.

Deterministic (one seeded random generator) and idempotent: running it again changes nothing,
because rows are keyed on natural keys (category path, product slug, supplier slug + SKU,
offer + tier size) and only rows whose values differ are written. Running it after a demo
session puts the demo offers' terms and statuses back (the moderation queue fills again).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from django.core.management import CommandError
from django.db import models, transaction
from django.utils.text import slugify

from catalogue.browse_data import product_browse_refresh
from catalogue.indexing import index_bring_up_to_date
from catalogue.models import (
    CATEGORY_SEPARATOR,
    Category,
    Offer,
    OfferStatus,
    Product,
    StockStatus,
    VolumeTier,
)
from catalogue.row_hashes import offer_row_hashes_refresh
from catalogue.services import category_tree_ensure
from common import gs1
from common.money import quantize_money
from organisations.models import Organisation, OrganisationKind

SEED = 20261124


@dataclass(frozen=True)
class DemoSupplier:
    slug: str
    name: str
    trusted: bool
    # Relative price level: 1.00 is the median supplier.
    price_level: Decimal
    # Category path prefixes this supplier sells in.
    sells: tuple[str, ...]


# The eight demo suppliers that organisations/demo.py creates (same slugs), so the demo supplier
# users find their offers here; each sells in some parts of the tree at its own price level.
SUPPLIERS: tuple[DemoSupplier, ...] = (
    DemoSupplier(
        "pennine-medical-supplies",
        "Pennine Medical Supplies",
        True,
        Decimal("1.00"),
        ("Clinical consumables", "Wound care", "Continence", "Mobility aids", "Wheelchairs"),
    ),
    DemoSupplier(
        "albion-surgical",
        "Albion Surgical",
        True,
        Decimal("1.07"),
        ("Clinical consumables", "Theatre", "Diagnostics", "Wound care"),
    ),
    DemoSupplier(
        "thames-wound-care",
        "Thames Wound Care",
        False,
        Decimal("0.95"),
        ("Wound care", "Clinical consumables > Gloves", "Clinical consumables > Hosiery"),
    ),
    DemoSupplier(
        "severn-mobility-and-daily-living",
        "Severn Mobility and Daily Living",
        False,
        Decimal("0.97"),
        ("Mobility aids", "Wheelchairs", "Beds and pressure care", "Services"),
    ),
    DemoSupplier(
        "clearwater-continence-care",
        "Clearwater Continence Care",
        False,
        Decimal("0.93"),
        ("Continence",),
    ),
    DemoSupplier(
        "meridian-compression-hosiery",
        "Meridian Compression Hosiery",
        False,
        Decimal("0.91"),
        ("Clinical consumables > Hosiery",),
    ),
    DemoSupplier(
        "brightwell-infection-control",
        "Brightwell Infection Control",
        True,
        Decimal("1.03"),
        ("Clinical consumables", "Facilities"),
    ),
    DemoSupplier(
        "northgate-diagnostics",
        "Northgate Diagnostics",
        False,
        Decimal("1.04"),
        ("Diagnostics", "Theatre", "Beds and pressure care"),
    ),
)


@dataclass
class DemoProduct:
    name: str
    category: str  # category path, e.g. "Clinical consumables > Gloves"
    manufacturer: str
    part_number: str
    unit_of_measure: str
    units_per_pack: int
    base_unit_price: Decimal  # typical price per unit excluding VAT
    vat_rate: Decimal = Decimal("20")
    patient_eligible: bool = False
    attributes: dict = field(default_factory=dict)
    description: str = ""
    # Pack sizes suppliers sell it in (multiples of units); the first is the manufacturer's pack.
    pack_options: tuple[int, ...] = ()
    lead_time_range: tuple[int, int] = (1, 5)


MANUFACTURERS = {
    "hosiery": ("Compressa Medical", "Veinline"),
    "gloves": ("Handshield", "Glovecare International", "Medisafe Polymers"),
    "syringes": ("Luerline Medical", "Precisa Devices"),
    "ppe": ("Shieldwell", "Medisafe Polymers"),
    "dressings": ("Woundtec", "Granulex Healthcare", "Dermacover"),
    "continence": ("Dryline Care", "Confidia"),
    "walking": ("Stridewell", "Ambulo Mobility"),
    "wheelchairs": ("Rollcraft", "Motivo Mobility", "Kestrel Seating"),
    "beds": ("Restwell Care Beds", "Pressureguard"),
    "diagnostics": ("Vitalscan", "Clearview Diagnostics"),
    "theatre": ("Sterilux", "Theatrix Surgical"),
    "facilities": ("Cleanwell Hygiene", "Wastesafe"),
    "services": ("Severn Mobility and Daily Living",),
}


def _p(value: str) -> Decimal:
    return Decimal(value)


def _walking_category(name: str) -> str:
    for word, category in (
        ("crutches", "Crutches"),
        ("frame", "Walking frames"),
        ("rollator", "Rollators"),
    ):
        if word in name.lower():
            return category
    return "Walking sticks"


def _products() -> Iterator[DemoProduct]:
    """Every demo product, in a fixed order."""
    hosiery = "Clinical consumables > Hosiery"
    for length, base in (("knee length", _p("2.35")), ("thigh length", _p("2.95"))):
        for size in ("small", "medium", "large", "extra large"):
            for fit in ("regular", "long"):
                maker = MANUFACTURERS["hosiery"][len(fit) % 2]
                yield DemoProduct(
                    name=f"Anti-embolism stocking, {length}, {size}, {fit}",
                    category=f"{hosiery} > Anti-embolism stockings",
                    manufacturer=maker,
                    part_number=f"AES-{length[0].upper()}{size[0].upper()}{fit[0].upper()}",
                    unit_of_measure="pair",
                    units_per_pack=1,
                    base_unit_price=base,
                    attributes={"length": length, "size": size, "fit": fit},
                    description="Graduated compression (18 mmHg at the ankle) to reduce the risk of "
                    "venous thromboembolism in immobile patients. Latex free.",
                    pack_options=(1, 6, 12),
                )
    for length in ("knee length", "thigh length"):
        for size in ("small", "medium", "large"):
            yield DemoProduct(
                name=f"Compression hosiery class 2, {length}, {size}, open toe",
                category=f"{hosiery} > Compression hosiery",
                manufacturer="Veinline",
                part_number=f"CH2-{length[0].upper()}{size[0].upper()}",
                unit_of_measure="pair",
                units_per_pack=1,
                base_unit_price=_p("9.80"),
                patient_eligible=True,
                attributes={"length": length, "size": size, "class": "2"},
                pack_options=(1, 2),
            )

    gloves = "Clinical consumables > Gloves"
    for material, base in (("nitrile", _p("0.045")), ("latex", _p("0.052")), ("vinyl", _p("0.031"))):
        for size in ("extra small", "small", "medium", "large", "extra large"):
            maker = MANUFACTURERS["gloves"][len(material) % 3]
            yield DemoProduct(
                name=f"Examination gloves, {material}, powder free, {size}",
                category=f"{gloves} > Examination gloves > {material.capitalize()}",
                manufacturer=maker,
                part_number=f"EG-{material[:3].upper()}-{slugify(size).upper()}",
                unit_of_measure="glove",
                units_per_pack=100,
                base_unit_price=base,
                attributes={"material": material, "size": size, "sterile": "no"},
                description=f"Non-sterile, ambidextrous {material} examination gloves, beaded cuff.",
                pack_options=(100, 200, 1000),
                lead_time_range=(1, 3),
            )
    for material in ("latex", "synthetic polyisoprene"):
        for size in ("6", "6.5", "7", "7.5", "8", "8.5", "9"):
            yield DemoProduct(
                name=f"Surgical gloves, sterile, {material}, size {size}",
                category=f"{gloves} > Surgical gloves > {'Latex' if material == 'latex' else 'Polyisoprene'}",
                manufacturer="Handshield",
                part_number=f"SG-{material[:3].upper()}-{size.replace('.', '')}",
                unit_of_measure="pair",
                units_per_pack=50,
                base_unit_price=_p("0.62") if material == "latex" else _p("0.88"),
                attributes={"material": material, "size": size, "sterile": "yes"},
                pack_options=(50, 200),
            )

    syringes = "Clinical consumables > Syringes and needles"
    for volume, base in (
        ("1", "0.041"),
        ("2", "0.043"),
        ("2.5", "0.044"),
        ("3", "0.046"),
        ("5", "0.052"),
        ("10", "0.066"),
        ("20", "0.112"),
        ("30", "0.185"),
        ("50", "0.29"),
    ):
        for tip in ("luer lock", "luer slip"):
            yield DemoProduct(
                name=f"Syringe, {volume} ml, {tip}, sterile, single use",
                category=f"{syringes} > Syringes",
                manufacturer=MANUFACTURERS["syringes"][0 if tip == "luer lock" else 1],
                part_number=f"SYR-{volume.replace('.', '')}-{'LL' if tip == 'luer lock' else 'LS'}",
                unit_of_measure="syringe",
                units_per_pack=100,
                base_unit_price=_p(base) + (_p("0.006") if tip == "luer lock" else 0),
                attributes={"volume": f"{volume} ml", "tip": tip},
                pack_options=(100, 500),
                lead_time_range=(1, 4),
            )
    for volume in ("1", "2.5", "5", "10", "20", "60"):
        yield DemoProduct(
            name=f"Enteral syringe, ENFit, {volume} ml, purple",
            category=f"{syringes} > Syringes",
            manufacturer="Precisa Devices",
            part_number=f"ENF-{volume.replace('.', '')}",
            unit_of_measure="syringe",
            units_per_pack=50,
            base_unit_price=_p("0.21") + _p(volume) / 100,
            attributes={"volume": f"{volume} ml", "tip": "ENFit"},
            pack_options=(50, 100),
        )
    for gauge, length, colour in (
        ("18G", "40 mm", "pink"),
        ("19G", "40 mm", "cream"),
        ("21G", "40 mm", "green"),
        ("22G", "30 mm", "black"),
        ("23G", "25 mm", "blue"),
        ("25G", "16 mm", "orange"),
        ("25G", "25 mm", "orange"),
        ("27G", "13 mm", "grey"),
        ("30G", "13 mm", "yellow"),
    ):
        yield DemoProduct(
            name=f"Hypodermic needle, {gauge}, {length}, {colour}",
            category=f"{syringes} > Hypodermic needles",
            manufacturer="Luerline Medical",
            part_number=f"NDL-{gauge}-{length.split()[0]}",
            unit_of_measure="needle",
            units_per_pack=100,
            base_unit_price=_p("0.028"),
            attributes={"gauge": gauge, "length": length},
            pack_options=(100,),
        )

    ppe = "Clinical consumables > Personal protective equipment"
    for mask, base in (
        ("fluid resistant surgical mask, type IIR", "0.09"),
        ("FFP3 respirator, valved", "1.45"),
    ):
        yield DemoProduct(
            name=mask[0].upper() + mask[1:],
            category=f"{ppe} > Face masks and respirators",
            manufacturer="Shieldwell",
            part_number=f"MSK-{slugify(mask)[:12].upper()}",
            unit_of_measure="mask",
            units_per_pack=50 if "IIR" in mask else 20,
            base_unit_price=_p(base),
            attributes={"type": mask},
            pack_options=(50, 1000) if "IIR" in mask else (20, 100),
        )
    for colour in ("white", "blue", "green", "yellow", "red"):
        yield DemoProduct(
            name=f"Disposable apron, polythene, {colour}, on a roll",
            category=f"{ppe} > Aprons and gowns",
            manufacturer="Medisafe Polymers",
            part_number=f"APR-{colour[:3].upper()}",
            unit_of_measure="apron",
            units_per_pack=200,
            base_unit_price=_p("0.019"),
            attributes={"type": "apron", "colour": colour},
            pack_options=(200, 1000),
        )
    for size in ("medium", "large", "extra large"):
        yield DemoProduct(
            name=f"Isolation gown, fluid resistant, long sleeve, {size}",
            category=f"{ppe} > Aprons and gowns",
            manufacturer="Shieldwell",
            part_number=f"GWN-ISO-{size[0].upper()}",
            unit_of_measure="gown",
            units_per_pack=10,
            base_unit_price=_p("1.18"),
            attributes={"type": "gown", "size": size},
            pack_options=(10, 100),
        )

    dressings = "Wound care > Dressings"
    sizes = (
        "5 cm x 5 cm",
        "7.5 cm x 7.5 cm",
        "10 cm x 10 cm",
        "12.5 cm x 12.5 cm",
        "15 cm x 15 cm",
        "20 cm x 20 cm",
    )
    for kind, base, count, sub in (
        ("Foam dressing, adhesive border", _p("0.85"), 6, "Foam dressings"),
        ("Foam dressing, non-adhesive", _p("0.72"), 6, "Foam dressings"),
        ("Silicone foam dressing, bordered", _p("1.35"), 6, "Foam dressings"),
        ("Hydrocolloid dressing", _p("0.95"), 5, "Hydrocolloid dressings"),
        ("Alginate dressing", _p("1.10"), 4, "Alginate dressings"),
        ("Low adherent dressing", _p("0.14"), 4, "Absorbent pads"),
        ("Transparent film dressing", _p("0.32"), 4, "Film dressings"),
        ("Absorbent island dressing", _p("0.22"), 5, "Absorbent pads"),
        ("Antimicrobial silver dressing", _p("2.80"), 4, "Antimicrobial dressings"),
    ):
        for i, size in enumerate(sizes[:count]):
            maker = MANUFACTURERS["dressings"][i % 3]
            yield DemoProduct(
                name=f"{kind}, {size}",
                category=f"{dressings} > {sub}",
                manufacturer=maker,
                part_number=f"DR-{slugify(kind)[:10].upper()}-{i + 1}",
                unit_of_measure="dressing",
                units_per_pack=10,
                base_unit_price=base * (1 + Decimal(i) / 3),
                attributes={"type": kind.split(",")[0].lower(), "size": size},
                pack_options=(10, 50),
            )

    continence = "Continence"
    for kind, base, sub in (
        ("Pull-up pants", _p("0.58"), "Pull-up pants"),
        ("All-in-one briefs", _p("0.64"), "All-in-one pads"),
    ):
        for absorbency in ("moderate", "heavy", "super"):
            for size in ("small", "medium", "large", "extra large"):
                yield DemoProduct(
                    name=f"{kind}, {absorbency} absorbency, {size}",
                    category=f"{continence} > Pads > {sub}",
                    manufacturer=MANUFACTURERS["continence"][len(size) % 2],
                    part_number=f"CON-{kind[:3].upper()}-{absorbency[:3].upper()}-{slugify(size).upper()}",
                    unit_of_measure="each",
                    units_per_pack=14,
                    base_unit_price=base + (_p("0.08") if absorbency == "super" else 0),
                    vat_rate=Decimal("0"),
                    patient_eligible=True,
                    attributes={"type": kind.lower(), "absorbency": absorbency, "size": size},
                    pack_options=(14, 56),
                )
    for absorbency in ("light", "normal", "extra", "super", "maxi", "night"):
        yield DemoProduct(
            name=f"Shaped insert pad, {absorbency}",
            category=f"{continence} > Pads > Insert pads",
            manufacturer="Dryline Care",
            part_number=f"CON-INS-{absorbency.upper()}",
            unit_of_measure="pad",
            units_per_pack=28,
            base_unit_price=_p("0.19") + Decimal("0.04") * len(absorbency) / 3,
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"type": "insert pad", "absorbency": absorbency},
            pack_options=(28, 112),
        )
    for size in ("60 cm x 60 cm", "60 cm x 90 cm"):
        yield DemoProduct(
            name=f"Disposable bed underpad, {size}",
            category=f"{continence} > Pads > Bed pads",
            manufacturer="Confidia",
            part_number=f"CON-UND-{size[:2]}{size[-5:-3]}",
            unit_of_measure="pad",
            units_per_pack=25,
            base_unit_price=_p("0.24"),
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"type": "underpad", "size": size},
            pack_options=(25, 100),
        )
    for fit, sizes_ch in (("male", ("12", "14", "16")), ("female", ("12", "14"))):
        for ch in sizes_ch:
            yield DemoProduct(
                name=f"Intermittent catheter, hydrophilic, {fit}, Ch{ch}",
                category=f"{continence} > Catheters > Intermittent catheters",
                manufacturer="Confidia",
                part_number=f"CAT-{fit[0].upper()}-{ch}",
                unit_of_measure="catheter",
                units_per_pack=30,
                base_unit_price=_p("1.95"),
                vat_rate=Decimal("0"),
                patient_eligible=True,
                attributes={"type": "catheter", "size": f"Ch{ch}"},
                pack_options=(30,),
            )
    for volume in ("350 ml", "500 ml", "750 ml"):
        yield DemoProduct(
            name=f"Leg drainage bag, {volume}, short tube",
            category=f"{continence} > Drainage bags",
            manufacturer="Confidia",
            part_number=f"LEG-{volume.split()[0]}",
            unit_of_measure="bag",
            units_per_pack=10,
            base_unit_price=_p("0.88"),
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"type": "leg bag", "size": volume},
            pack_options=(10,),
        )

    walking = "Mobility aids"
    for name, base in (
        ("Walking stick, adjustable, aluminium, black", "6.40"),
        ("Walking stick, adjustable, aluminium, extra tall", "7.20"),
        ("Walking stick, folding, with wrist strap", "8.90"),
        ("Walking stick, wooden, crook handle", "5.60"),
        ("Quad cane, small base", "14.50"),
        ("Quad cane, large base", "16.20"),
        ("Elbow crutches, adult, adjustable (pair)", "11.80"),
        ("Elbow crutches, tall adult, adjustable (pair)", "12.60"),
        ("Elbow crutches, child, adjustable (pair)", "11.20"),
        ("Axilla crutches, adult (pair)", "18.40"),
        ("Walking frame, standard, adjustable height", "24.00"),
        ("Walking frame, narrow, adjustable height", "24.50"),
        ("Walking frame, wide, bariatric", "49.00"),
        ("Walking frame, two front wheels", "32.00"),
        ("Rollator, three wheels, with bag", "46.00"),
        ("Rollator, four wheels, with seat and brakes", "68.00"),
        ("Rollator, four wheels, lightweight folding", "89.00"),
        ("Ferrules, 19 mm, grey (pair)", "1.90"),
        ("Ferrules, 22 mm, grey (pair)", "1.95"),
    ):
        yield DemoProduct(
            name=name,
            category=f"{walking} > {_walking_category(name)}",
            manufacturer=MANUFACTURERS["walking"][len(name) % 2],
            part_number=f"WLK-{slugify(name)[:18].upper()}",
            unit_of_measure="each",
            units_per_pack=1,
            base_unit_price=_p(base),
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"type": name.split(",")[0].lower()},
            pack_options=(1, 4) if _p(base) < 20 else (1,),
            lead_time_range=(2, 10),
        )

    manual_self = "Wheelchairs > Manual self-propelled wheelchairs"
    manual_attendant = "Wheelchairs > Attendant-propelled wheelchairs"
    for name, base, width, propulsion in (
        ("Self-propelled wheelchair, steel, 16 inch seat", "165.00", "16 inch", "self-propelled"),
        ("Self-propelled wheelchair, steel, 18 inch seat", "172.00", "18 inch", "self-propelled"),
        (
            "Self-propelled wheelchair, lightweight aluminium, 18 inch seat",
            "289.00",
            "18 inch",
            "self-propelled",
        ),
        (
            "Self-propelled wheelchair, lightweight aluminium, 20 inch seat",
            "305.00",
            "20 inch",
            "self-propelled",
        ),
        ("Attendant-propelled wheelchair, 16 inch seat", "149.00", "16 inch", "attendant-propelled"),
        ("Attendant-propelled wheelchair, 18 inch seat", "155.00", "18 inch", "attendant-propelled"),
        ("Transit wheelchair, folding, 17 inch seat", "139.00", "17 inch", "attendant-propelled"),
        ("Bariatric wheelchair, 22 inch seat, 200 kg", "495.00", "22 inch", "self-propelled"),
        ("Bariatric wheelchair, 24 inch seat, 250 kg", "560.00", "24 inch", "self-propelled"),
        ("Tilt-in-space wheelchair, 18 inch seat", "1450.00", "18 inch", "attendant-propelled"),
        ("Active user rigid-frame wheelchair, 16 inch seat", "1890.00", "16 inch", "self-propelled"),
        ("Paediatric wheelchair, 12 inch seat", "420.00", "12 inch", "self-propelled"),
    ):
        yield DemoProduct(
            name=name,
            category=manual_self if propulsion == "self-propelled" else manual_attendant,
            manufacturer=MANUFACTURERS["wheelchairs"][len(name) % 3],
            part_number=f"MWC-{slugify(name)[:20].upper()}",
            unit_of_measure="each",
            units_per_pack=1,
            base_unit_price=_p(base),
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"seat_width": width, "propulsion": propulsion},
            pack_options=(1,),
            lead_time_range=(5, 21),
        )
    powered = "Wheelchairs > Powered wheelchairs"
    for name, base, klass, drive in (
        ("Powered wheelchair, indoor, class 2, rear-wheel drive", "1650.00", "class 2", "rear-wheel"),
        ("Powered wheelchair, indoor/outdoor, class 2, mid-wheel drive", "2450.00", "class 2", "mid-wheel"),
        (
            "Powered wheelchair, indoor/outdoor, class 2, front-wheel drive",
            "2690.00",
            "class 2",
            "front-wheel",
        ),
        ("Powered wheelchair, folding, lightweight lithium battery", "1890.00", "class 2", "rear-wheel"),
        ("Powered wheelchair, outdoor, class 3, 8 mph", "3950.00", "class 3", "rear-wheel"),
        ("Powered wheelchair, powered tilt and recline", "5850.00", "class 2", "mid-wheel"),
        ("Powered wheelchair, bariatric, 200 kg", "4300.00", "class 2", "rear-wheel"),
        ("Power pack for manual wheelchair, attendant controlled", "1150.00", "add-on", "rear-wheel"),
    ):
        yield DemoProduct(
            name=name,
            category=powered,
            manufacturer=MANUFACTURERS["wheelchairs"][len(name) % 3],
            part_number=f"PWC-{slugify(name)[:22].upper()}",
            unit_of_measure="each",
            units_per_pack=1,
            base_unit_price=_p(base),
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"class": klass, "drive": drive},
            pack_options=(1,),
            lead_time_range=(10, 42),
        )
    accessories = "Wheelchairs > Wheelchair accessories"
    for kind, base in (
        ("Pressure-relieving cushion, foam", "38.00"),
        ("Pressure-relieving cushion, gel", "74.00"),
    ):
        for width in ("16 inch", "18 inch", "20 inch"):
            yield DemoProduct(
                name=f"{kind}, {width}",
                category="Wheelchairs > Wheelchair cushions",
                manufacturer="Kestrel Seating",
                part_number=f"CSH-{kind.split(', ')[1][:3].upper()}-{width.split()[0]}",
                unit_of_measure="each",
                units_per_pack=1,
                base_unit_price=_p(base),
                vat_rate=Decimal("0"),
                patient_eligible=True,
                attributes={"type": kind.split(", ")[1] + " cushion", "size": width},
                pack_options=(1,),
            )
    for name, base in (
        ("Wheelchair lap belt, quick release", "14.00"),
        ("Wheelchair puncture-proof tyres, 24 inch (pair)", "46.00"),
        ("Wheelchair elevating leg rest", "52.00"),
        ("Wheelchair tray, clear acrylic", "39.00"),
    ):
        yield DemoProduct(
            name=name,
            category=accessories,
            manufacturer="Rollcraft",
            part_number=f"ACC-{slugify(name)[:16].upper()}",
            unit_of_measure="each",
            units_per_pack=1,
            base_unit_price=_p(base),
            vat_rate=Decimal("0"),
            patient_eligible=True,
            attributes={"type": name.split(",")[0].lower()},
            pack_options=(1,),
        )

    beds = "Beds and pressure care"
    for name, base, sub in (
        ("Profiling bed, four section, electric, with side rails", "1295.00", "Hospital beds"),
        ("Low profiling bed, floor level, electric", "1850.00", "Community beds"),
        ("Bariatric profiling bed, 300 kg", "3100.00", "Hospital beds"),
        ("Pressure-redistributing foam mattress, standard", "145.00", "Pressure-relieving mattresses"),
        ("Pressure-redistributing foam mattress, bariatric", "310.00", "Pressure-relieving mattresses"),
        ("Hybrid mattress, foam with air cells", "690.00", "Pressure-relieving mattresses"),
        ("Alternating air mattress replacement system", "1250.00", "Pressure-relieving mattresses"),
        ("Alternating air overlay with pump", "420.00", "Pressure-relieving mattresses"),
        ("Heel protector boot, pressure relief", "24.00", "Pressure-relieving cushions"),
        ("Bed lever, universal fit", "48.00", "Bed rails and accessories"),
        ("Over-bed table, height adjustable", "86.00", "Bed rails and accessories"),
        ("Pressure-relieving pillow, positioning wedge", "32.00", "Pressure-relieving cushions"),
    ):
        yield DemoProduct(
            name=name,
            category=f"{beds} > {sub}",
            manufacturer=MANUFACTURERS["beds"][len(name) % 2],
            part_number=f"BED-{slugify(name)[:20].upper()}",
            unit_of_measure="each",
            units_per_pack=1,
            base_unit_price=_p(base),
            patient_eligible=_p(base) < 700,
            attributes={"type": name.split(",")[0].lower()},
            pack_options=(1,),
            lead_time_range=(3, 28),
        )

    diagnostics = "Diagnostics"
    for name, base, units, sub in (
        ("Digital thermometer, oral/axillary", "3.20", 1, "Thermometers"),
        ("Infrared tympanic thermometer", "34.00", 1, "Thermometers"),
        ("Tympanic thermometer probe covers", "0.045", 800, "Thermometers"),
        ("Automatic blood pressure monitor, upper arm", "38.00", 1, "Blood pressure monitors"),
        ("Pulse oximeter, fingertip", "16.50", 1, "Pulse oximeters"),
        ("Blood glucose test strips", "0.29", 50, "Blood glucose testing"),
        ("Safety lancets, 28G", "0.055", 200, "Blood glucose testing"),
        ("Urinalysis reagent strips, 10 parameter", "0.21", 100, "Urine testing"),
        ("Otoscope specula, 2.5 mm, single use", "0.035", 250, ""),
        ("Otoscope specula, 4 mm, single use", "0.035", 250, ""),
        ("ECG electrodes, foam, adult", "0.065", 50, ""),
        ("Stethoscope, dual head, adult", "21.00", 1, "Stethoscopes"),
        ("Peak flow meter, standard range", "6.90", 1, ""),
        ("Lateral flow test, COVID-19 antigen", "0.95", 25, "Rapid tests"),
    ):
        yield DemoProduct(
            name=name,
            category=f"{diagnostics} > {sub}" if sub else diagnostics,
            manufacturer=MANUFACTURERS["diagnostics"][len(name) % 2],
            part_number=f"DX-{slugify(name)[:20].upper()}",
            unit_of_measure="each",
            units_per_pack=units,
            base_unit_price=_p(base),
            attributes={"type": name.split(",")[0].lower()},
            pack_options=(units, units * 10) if units > 1 else (1, 5),
        )
    for size in ("child", "small adult", "adult", "large adult", "thigh"):
        yield DemoProduct(
            name=f"Blood pressure cuff, reusable, {size}",
            category=f"{diagnostics} > Blood pressure monitors",
            manufacturer="Vitalscan",
            part_number=f"BPC-{slugify(size).upper()}",
            unit_of_measure="each",
            units_per_pack=1,
            base_unit_price=_p("12.50"),
            attributes={"type": "blood pressure cuff", "size": size},
            pack_options=(1, 5),
        )

    theatre = "Theatre"
    for number in ("10", "11", "12", "15", "20", "22", "23", "24"):
        yield DemoProduct(
            name=f"Scalpel blade, sterile, carbon steel, no. {number}",
            category=f"{theatre} > Surgical instruments",
            manufacturer="Sterilux",
            part_number=f"BLD-{number}",
            unit_of_measure="blade",
            units_per_pack=100,
            base_unit_price=_p("0.085"),
            attributes={"type": "scalpel blade", "size": f"no. {number}"},
            pack_options=(100,),
        )
    for size in ("medium", "large", "extra large", "extra extra large"):
        yield DemoProduct(
            name=f"Surgical gown, sterile, reinforced, {size}",
            category=f"{theatre} > Surgical gowns",
            manufacturer="Theatrix Surgical",
            part_number=f"SGW-{slugify(size).upper()}",
            unit_of_measure="gown",
            units_per_pack=20,
            base_unit_price=_p("2.45"),
            attributes={"type": "surgical gown", "size": size},
            pack_options=(20,),
        )
    for name, base, units, sub in (
        ("Surgical drape, universal pack", "6.80", 10, "Drapes"),
        ("Surgical drape, laparotomy", "9.40", 10, "Drapes"),
        ("Theatre cap, bouffant, blue", "0.04", 500, ""),
        ("Theatre shoe covers, non-slip", "0.06", 200, ""),
        ("Surgical suture, absorbable, 3-0, 75 cm", "2.10", 12, "Sutures"),
        ("Surgical suture, non-absorbable, 4-0, 45 cm", "1.85", 12, "Sutures"),
        ("Swabs, X-ray detectable, 10 cm x 10 cm", "0.05", 100, "Procedure packs"),
        ("Diathermy pencil, disposable", "2.90", 20, "Surgical instruments"),
        ("Instrument tray liner", "0.42", 100, "Procedure packs"),
    ):
        yield DemoProduct(
            name=name,
            category=f"{theatre} > {sub}" if sub else theatre,
            manufacturer=MANUFACTURERS["theatre"][len(name) % 2],
            part_number=f"TH-{slugify(name)[:20].upper()}",
            unit_of_measure="each",
            units_per_pack=units,
            base_unit_price=_p(base),
            attributes={"type": name.split(",")[0].lower()},
            pack_options=(units,),
        )

    facilities = "Facilities"
    for volume in ("1 litre", "1.8 litre", "2.5 litre", "5 litre", "7 litre", "11.5 litre", "22 litre"):
        yield DemoProduct(
            name=f"Sharps container, yellow lid, {volume}",
            category="Clinical consumables > Syringes and needles > Sharps containers",
            manufacturer="Wastesafe",
            part_number=f"SHP-{volume.split()[0].replace('.', '')}",
            unit_of_measure="container",
            units_per_pack=1,
            base_unit_price=_p("1.10") + _p(volume.split()[0]) * _p("0.22"),
            attributes={"type": "sharps container", "size": volume},
            pack_options=(1, 50),
        )
    for stream in ("yellow (infectious)", "orange (infectious)", "tiger (offensive)", "black (domestic)"):
        for size in ("medium", "large"):
            yield DemoProduct(
                name=f"Waste sack, {stream}, {size}",
                category=f"{facilities} > Waste > Clinical waste bags",
                manufacturer="Wastesafe",
                part_number=f"WST-{stream[:3].upper()}-{size[0].upper()}",
                unit_of_measure="sack",
                units_per_pack=200,
                base_unit_price=_p("0.07") if size == "medium" else _p("0.09"),
                attributes={"type": "waste sack", "stream": stream, "size": size},
                pack_options=(200,),
            )
    for name, base, units, sub in (
        ("Alcohol hand rub, 500 ml pump", "2.40", 1, "Cleaning > Detergents and disinfectants"),
        ("Alcohol hand rub, 5 litre refill", "17.50", 1, "Cleaning > Detergents and disinfectants"),
        ("Clinical wipes, detergent, 200 pack", "3.10", 1, "Cleaning > Wipes"),
        ("Clinical wipes, chlorine 1000 ppm, 100 pack", "4.60", 1, "Cleaning > Wipes"),
        ("Paper hand towels, interfold, 2-ply", "0.006", 3000, "Linen > Towels"),
        ("Couch roll, 50 cm, blue", "1.45", 1, "Linen > Bed linen"),
        ("Liquid soap, mild, 5 litre", "6.20", 1, "Cleaning > Detergents and disinfectants"),
        ("Spill kit, body fluids", "3.90", 1, "Cleaning > Cleaning equipment"),
    ):
        yield DemoProduct(
            name=name,
            category=f"{facilities} > {sub}",
            manufacturer="Cleanwell Hygiene",
            part_number=f"FAC-{slugify(name)[:20].upper()}",
            unit_of_measure="each",
            units_per_pack=units,
            base_unit_price=_p(base),
            attributes={"type": name.split(",")[0].lower()},
            pack_options=(units, units * 6),
        )

    services = "Services"
    for name, base, sub in (
        ("Wheelchair repair call-out, within 48 hours", "65.00", "Maintenance > Equipment servicing"),
        ("Pressure mattress decontamination and return", "38.00", "Decontamination"),
        (
            "Profiling bed delivery, installation and collection",
            "85.00",
            "Transport > Equipment delivery and collection",
        ),
        ("Annual service, powered wheelchair", "120.00", "Maintenance > Equipment servicing"),
    ):
        yield DemoProduct(
            name=name,
            category=f"{services} > {sub}",
            manufacturer="Pennine Mobility and Care",
            part_number=f"SVC-{slugify(name)[:18].upper()}",
            unit_of_measure="visit",
            units_per_pack=1,
            base_unit_price=_p(base),
            attributes={"type": "service"},
            pack_options=(1,),
            lead_time_range=(2, 7),
        )

    # Last, so that adding them left every earlier product's codes and offers as they were.
    for gauge, colour, flow in (
        ("14 G", "orange", "270"),
        ("16 G", "grey", "180"),
        ("18 G", "green", "90"),
        ("20 G", "pink", "60"),
        ("22 G", "blue", "35"),
        ("24 G", "yellow", "20"),
    ):
        yield DemoProduct(
            name=f"IV cannula, {gauge}, {colour}",
            category="Clinical consumables > Vascular access > IV cannulas",
            manufacturer=MANUFACTURERS["syringes"][1],
            part_number=f"CAN-{gauge.split()[0]}",
            unit_of_measure="cannula",
            units_per_pack=50,
            base_unit_price=_p("0.62"),
            attributes={"gauge": gauge, "colour": colour, "flow rate": f"{flow} ml/min"},
            description="Peripheral intravenous cannula with injection port and wings; safety shielded.",
            pack_options=(50, 200),
            lead_time_range=(1, 4),
        )


def demo_products() -> list[DemoProduct]:
    """The demo products with manufacturer part numbers made unique per manufacturer."""
    products = list(_products())
    seen: dict[tuple[str, str], int] = {}
    for product in products:
        key = (product.manufacturer.lower(), product.part_number)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            product.part_number = f"{product.part_number}-{seen[key]}"
    return products


def _npc(index: int) -> str:
    """An NHS Supply Chain-style catalogue code: three letters, three digits."""
    letters = "ABCDEFGHJKLMNPRSTVWXY"
    return f"{letters[index % 21]}{letters[index // 21 % 21]}{letters[index // 441 % 21]}{index % 1000:03d}"


def _is_sold_by(supplier: DemoSupplier, category_path: str) -> bool:
    return any(category_path == p or category_path.startswith(p + CATEGORY_SEPARATOR) for p in supplier.sells)


# Writing ------------------------------------------------------------------------------------------


def _upsert(model: type[models.Model], existing: dict, key, values: dict, created: list, changed: list):
    """Create the row for `key` or update the fields that differ; return the instance."""
    instance = existing.get(key)
    if instance is None:
        instance = model(**values)
        created.append(instance)
        existing[key] = instance
        return instance
    dirty = [name for name, value in values.items() if not _same(instance, name, value)]
    if dirty:
        for name in dirty:
            setattr(instance, name, values[name])
        changed.append((instance, dirty))
    return instance


def _same(instance: models.Model, name: str, value) -> bool:
    # Compare foreign keys by id, so checking never loads the related row.
    if isinstance(value, models.Model):
        return getattr(instance, f"{name}_id") == value.pk
    return getattr(instance, name) == value


def _save_changed(changed: list) -> None:
    for instance, dirty in changed:
        instance.save(update_fields=[*dirty, *(["updated_at"] if hasattr(instance, "updated_at") else [])])


def _seed_categories(paths: set[str]) -> dict[str, Category]:
    """The demo products' categories (the tree migration made them; any missing are added)."""
    return category_tree_ensure(paths=sorted(paths))


def _seed_suppliers() -> dict[str, Organisation]:
    """The demo suppliers, which organisations/demo.py makes and owns (`seed_demo` runs it first): an
    app's demo writes only its own app's rows (the `model_writes` contract in pyproject.toml)."""
    slugs = [s.slug for s in SUPPLIERS]
    suppliers = {
        o.slug: o for o in Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, slug__in=slugs)
    }
    missing = [slug for slug in slugs if slug not in suppliers]
    if missing:
        raise CommandError(
            f"The demo catalogue needs the demo suppliers ({', '.join(missing)}): run `manage.py "
            "seed_demo`, which loads the organisations first."
        )
    return suppliers


def seed(stdout: IO[str]) -> None:
    rng = random.Random(SEED)
    suppliers = _seed_suppliers()
    catalogue = demo_products()
    categories = _seed_categories({d.category for d in catalogue})

    existing_products = {
        p.slug: p for p in Product.objects.filter(slug__in=[slugify(d.name) for d in catalogue])
    }
    created: list[Product] = []
    changed: list = []
    for index, demo in enumerate(catalogue):
        slug = slugify(demo.name)
        # About half carry a GS1 UK GTIN-13 (stored as 14 digits), a third an NPC code.
        gtin = "0" + gs1.with_check_digit(f"50{index + 123456:010d}") if index % 2 == 0 else None
        npc = _npc(index + 500) if index % 3 == 0 else None
        _upsert(
            Product,
            existing_products,
            slug,
            {
                "name": demo.name,
                "slug": slug,
                "description": demo.description,
                "category": categories[demo.category],
                "manufacturer": demo.manufacturer,
                "manufacturer_part_number": demo.part_number,
                "gtin": gtin,
                "npc": npc,
                "unit_of_measure": demo.unit_of_measure,
                "units_per_pack": demo.units_per_pack,
                "attributes": demo.attributes,
            },
            created,
            changed,
        )
    Product.objects.bulk_create(created)
    _save_changed(changed)
    product_count = (len(created), len(changed))

    supplier_ids = [o.id for o in suppliers.values()]
    existing_offers = {
        (o.supplier_id, o.supplier_sku): o for o in Offer.objects.filter(supplier_id__in=supplier_ids)
    }
    created_offers: list[Offer] = []
    changed_offers: list = []
    wanted_tiers: list[tuple[tuple[int, str], int, Decimal]] = []
    for index, demo in enumerate(catalogue):
        product = existing_products[slugify(demo.name)]
        sellers = [s for s in SUPPLIERS if _is_sold_by(s, demo.category)]
        count = min(len(sellers), rng.choice((2, 2, 3, 3, 4)))
        for s in rng.sample(sellers, count):
            organisation = suppliers[s.slug]
            units = rng.choice(demo.pack_options or (demo.units_per_pack,))
            # Bigger packs are a little cheaper per unit; each supplier has its own level and noise.
            size_discount = Decimal("0.92") if units > demo.units_per_pack else Decimal("1")
            noise = Decimal(rng.randint(90, 112)) / 100
            pack_price = quantize_money(demo.base_unit_price * units * s.price_level * size_discount * noise)
            pack_price = max(pack_price, Decimal("0.05"))
            sku = f"{s.slug[:3].upper()}-{index + 1:05d}-{units}"
            # A few offers of untrusted suppliers await moderation; one in forty is withdrawn.
            roll = rng.random()
            if not s.trusted and roll < 0.06:
                status = OfferStatus.PENDING
            elif roll > 0.975:
                status = OfferStatus.WITHDRAWN
            else:
                status = OfferStatus.LIVE
            low, high = demo.lead_time_range
            _upsert(
                Offer,
                existing_offers,
                (organisation.id, sku),
                {
                    "supplier": organisation,
                    "product": product,
                    "supplier_sku": sku,
                    "pack_price": pack_price,
                    "vat_rate": demo.vat_rate,
                    "units_per_pack": units,
                    "lead_time_days": rng.randint(low, high),
                    "min_order_packs": 1 if units > 1 or pack_price > 20 else rng.choice((1, 2, 5)),
                    "stock_status": rng.choices([v for v, _ in StockStatus.choices], weights=(70, 15, 7, 8))[
                        0
                    ],
                    "patient_eligible": demo.patient_eligible,
                    "status": status,
                },
                created_offers,
                changed_offers,
            )
            # Consumables bought in volume get tiers: 2-3 steps, each a little cheaper.
            if pack_price < 200 and rng.random() < 0.55:
                price = pack_price
                for min_packs in rng.choice(((10, 50), (5, 20, 100), (25,), (10, 40, 200))):
                    price = quantize_money(price * Decimal(rng.randint(90, 96)) / 100)
                    if price <= 0:
                        break
                    wanted_tiers.append(((organisation.id, sku), min_packs, price))
    Offer.objects.bulk_create(created_offers)
    _save_changed(changed_offers)

    offers_by_id = {o.id: o for o in existing_offers.values()}
    existing_tiers = {
        (t.offer_id, t.min_packs): t for t in VolumeTier.objects.filter(offer_id__in=list(offers_by_id))
    }
    created_tiers: list[VolumeTier] = []
    changed_tiers: list = []
    wanted_keys = set()
    for offer_key, min_packs, price in wanted_tiers:
        offer = existing_offers[offer_key]
        wanted_keys.add((offer.id, min_packs))
        _upsert(
            VolumeTier,
            existing_tiers,
            (offer.id, min_packs),
            {"offer": offer, "min_packs": min_packs, "pack_price": price},
            created_tiers,
            changed_tiers,
        )
    VolumeTier.objects.bulk_create(created_tiers)
    _save_changed(changed_tiers)
    stale = [t.id for key, t in existing_tiers.items() if key not in wanted_keys and t.id]
    VolumeTier.objects.filter(id__in=stale).delete()

    # The seed writes in bulk (no signals): recompute its offers' row hashes and its products' browse
    # data now, in its transaction, and bring the search index up to date once it commits.
    offer_row_hashes_refresh(offers_by_id)
    product_browse_refresh([p.id for p in existing_products.values()])
    transaction.on_commit(index_bring_up_to_date)
    stdout.write(
        f"Catalogue: {len(catalogue)} products ({product_count[0]} new, {product_count[1]} updated), "
        f"{len(existing_offers)} offers from {len(suppliers)} suppliers "
        f"({len(created_offers)} new, {len(changed_offers)} updated), "
        f"{len(existing_tiers) - len(stale)} volume tiers ({len(created_tiers)} new).\n"
    )
