"""The relevance catalogue, built in code: about 280 products in families of near-duplicates (19
anti-embolism stockings that differ by length, size and fit; gloves by material and size; syringes by
volume and tip; cannulas by gauge and maker; dressings by kind and size), as NHS buyers see them.

Names are the stable keys the judged queries refer to. GTINs, NPC codes and part numbers are derived
from the name (a hash), so adding a product never changes another's codes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from common import gs1

H = "Clinical consumables > Hosiery"
GL = "Clinical consumables > Gloves > Examination gloves"
SN = "Clinical consumables > Syringes and needles"
IV = "Clinical consumables > Infusion and IV"
PPE = "Clinical consumables > Personal protective equipment"
WD = "Wound care > Dressings"
CO = "Continence"
MOB = "Mobility aids"
WC = "Wheelchairs"
BED = "Beds and pressure care"
DX = "Diagnostics"


@dataclass(frozen=True)
class Spec:
    name: str
    category: str
    manufacturer: str
    description: str = ""
    price: str = "1.00"
    attributes: dict = field(default_factory=dict)


def _family(names, category, manufacturer, description, price="1.00"):
    return [Spec(n, category, manufacturer, description, price) for n in names]


def specs() -> list[Spec]:
    out: list[Spec] = []
    # Hosiery: 19 anti-embolism stockings (the near-duplicates that all score the same), compression.
    stockings = [
        f"Anti-embolism stockings, {length}, {size}, {fit}"
        for length in ("thigh length", "below knee")
        for size in ("small", "medium", "large", "extra large")
        for fit in ("regular", "long")
    ] + [
        "Anti-embolism stockings, thigh length, open toe, medium",
        "Anti-embolism stockings, below knee, open toe, large",
        "Anti-embolism stockings, thigh length, with waist belt, large",
    ]
    out += _family(
        stockings,
        f"{H} > Anti-embolism stockings",
        "Cardinal Health",
        "Graduated compression for DVT prophylaxis in surgical patients. Pair.",
        "4.20",
    )
    out += _family(
        [
            f"Compression stockings, class {c}, below knee, {s}"
            for c in (1, 2, 3)
            for s in ("medium", "large")
        ],
        f"{H} > Compression hosiery",
        "Medi UK",
        "British standard graduated compression hosiery for venous conditions. Pair.",
        "9.80",
    )
    # Gloves.
    sizes = ("extra small", "small", "medium", "large", "extra large")
    out += _family(
        [f"Nitrile examination gloves, powder-free, {s}, box of 100" for s in sizes],
        f"{GL} > Nitrile",
        "Medline",
        "Blue, non-sterile, ambidextrous, textured fingertips.",
        "0.04",
    )
    out += _family(
        [f"Nitrile examination gloves, extended cuff, {s}, box of 200" for s in ("small", "medium", "large")],
        f"{GL} > Nitrile",
        "Polyco Healthline",
        "Violet blue, non-sterile, 300 mm cuff for chemotherapy handling.",
        "0.06",
    )
    out += _family(
        [f"Latex examination gloves, powder-free, {s}, box of 100" for s in ("small", "medium", "large")]
        + ["Latex examination gloves, lightly powdered, medium, box of 100"],
        f"{GL} > Latex",
        "Shermond",
        "Natural rubber latex, non-sterile.",
        "0.03",
    )
    out += _family(
        [f"Vinyl examination gloves, powder-free, {s}, box of 100" for s in ("small", "medium", "large")],
        f"{GL} > Vinyl",
        "Shermond",
        "Clear, non-sterile, latex-free.",
        "0.02",
    )
    out += _family(
        [f"Sterile surgical gloves, latex, powder-free, size {s}" for s in ("6", "6.5", "7", "7.5", "8")]
        + [f"Sterile surgical gloves, nitrile, latex-free, size {s}" for s in ("7", "7.5")],
        "Clinical consumables > Gloves > Surgical gloves",
        "Mölnlycke",
        "Pair, individually wrapped.",
        "0.65",
    )
    # Syringes and needles.
    out += _family(
        [f"Syringe, {v} ml, luer lock, single use" for v in ("1", "2", "2.5", "3", "5", "10", "20", "50")],
        f"{SN} > Syringes",
        "BD",
        "Sterile hypodermic syringe, latex-free.",
        "0.09",
    )
    out += _family(
        [f"Syringe, {v} ml, luer slip, single use" for v in ("2", "5", "10", "20")],
        f"{SN} > Syringes",
        "Terumo",
        "Sterile hypodermic syringe, concentric tip.",
        "0.07",
    )
    out += _family(
        [f"Oral syringe, ENFit, {v} ml, purple" for v in ("1", "5", "10", "20", "60")],
        f"{SN} > Syringes",
        "Medicina",
        "Enteral syringe for feeding and oral medicines; not for intravenous use.",
        "0.18",
    )
    out += _family(
        ["Insulin syringe, 1 ml, 29G needle, 12.7 mm", "Insulin syringe, 0.5 ml, 30G needle, 8 mm"],
        f"{SN} > Insulin syringes and pen needles",
        "BD",
        "U-100 insulin syringe with fixed needle.",
        "0.14",
    )
    out += _family(
        [
            "Hypodermic needle, 21G x 1.5 inch, green",
            "Hypodermic needle, 23G x 1 inch, blue",
            "Hypodermic needle, 25G x 5/8 inch, orange",
            "Hypodermic needle, 19G x 1.5 inch, cream",
            "Hypodermic needle, 18G x 1.5 inch, pink",
        ],
        f"{SN} > Hypodermic needles",
        "BD",
        "Sterile single-use needle, box of 100.",
        "0.03",
    )
    out += _family(
        ["Safety needle, 21G x 1.5 inch", "Safety needle, 23G x 1 inch"],
        f"{SN} > Safety needles",
        "BD",
        "Hinged safety shield that locks over the needle after use.",
        "0.16",
    )
    out += _family(
        ["Blunt fill needle, 18G, with 5 micron filter"],
        f"{SN} > Hypodermic needles",
        "BD",
        "For drawing up medicines from ampoules.",
        "0.08",
    )
    out += _family(
        [f"Sharps container, {v} litre, yellow lid" for v in ("1", "5", "7", "11", "22")]
        + ["Sharps container, 0.6 litre, purple lid, cytotoxic"],
        f"{SN} > Sharps containers",
        "Frontier",
        "UN-approved sharps disposal with temporary closure.",
        "2.10",
    )
    # Infusion and IV.
    gauges = (
        ("14", "orange"),
        ("16", "grey"),
        ("18", "green"),
        ("20", "pink"),
        ("22", "blue"),
        ("24", "yellow"),
    )
    out += _family(
        [f"BD Venflon Pro Safety IV cannula, {g}G, {c}" for g, c in gauges],
        f"{IV} > Cannulas",
        "BD",
        "Peripheral intravenous catheter with injection port and safety clip.",
        "0.95",
    )
    out += _family(
        [f"Introcan Safety IV cannula, {g}G, {c}" for g, c in gauges],
        f"{IV} > Cannulas",
        "B. Braun",
        "Peripheral intravenous catheter, passive safety, without port.",
        "0.85",
    )
    out += _family(
        [
            "Infusion giving set, gravity, 20 drops per ml",
            "Blood giving set, 200 micron filter",
            "Extension set, 10 cm, with clamp",
        ],
        f"{IV} > Giving sets",
        "Baxter",
        "Sterile, single use, luer lock connectors.",
        "1.40",
    )
    # Continence: catheters, bags, pads.
    out += _family(
        [f"Foley catheter, 2-way, silicone, {ch} Ch, 10 ml balloon" for ch in (12, 14, 16, 18)]
        + [f"Foley catheter, 2-way, latex, {ch} Ch, 10 ml balloon" for ch in (12, 14, 16)]
        + ["Female Foley catheter, silicone, 14 Ch, 10 ml balloon"],
        f"{CO} > Catheters > Foley catheters",
        "Bard",
        "Long-term indwelling urinary catheter, 28 days.",
        "4.50",
    )
    out += _family(
        [f"Intermittent catheter, hydrophilic, male, {ch} Ch" for ch in (10, 12, 14)]
        + ["Intermittent catheter, hydrophilic, female, 12 Ch"],
        f"{CO} > Catheters > Intermittent catheters",
        "Coloplast",
        "Ready to use, for self-catheterisation.",
        "1.90",
    )
    out += _family(
        [f"Sheath catheter, self-adhesive, {d} mm" for d in (25, 29, 32)],
        f"{CO} > Catheters > Sheath catheters",
        "Coloplast",
        "Silicone male external catheter.",
        "2.30",
    )
    out += _family(
        [
            "Leg bag, 500 ml, sterile, short tube",
            "Leg bag, 750 ml, sterile, long tube",
            "Night drainage bag, 2 litre, non-drainable",
            "Night drainage bag, 2 litre, with drain tap",
        ],
        f"{CO} > Drainage bags",
        "Bard",
        "Urine drainage bag with non-return valve.",
        "1.10",
    )
    out += _family(
        [f"Incontinence pad, insert, {a} absorbency" for a in ("light", "normal", "super", "extra")],
        f"{CO} > Pads > Insert pads",
        "Essity",
        "Shaped pad worn with fixation pants.",
        "0.22",
    )
    out += _family(
        ["All-in-one incontinence pad, medium, day", "All-in-one incontinence pad, large, night"],
        f"{CO} > Pads > All-in-one pads",
        "Essity",
        "Adult brief with refastenable tapes.",
        "0.48",
    )
    out += _family(
        [f"Pull-up pants, {s}, super absorbency" for s in ("small", "medium", "large", "extra large")],
        f"{CO} > Pads > Pull-up pants",
        "Essity",
        "Absorbent disposable underwear for moderate to heavy incontinence.",
        "0.52",
    )
    out += _family(
        [
            "Bed pad, disposable, 60 cm x 90 cm",
            "Bed pad, disposable, 40 cm x 60 cm",
            "Washable bed pad, 75 cm x 90 cm",
        ],
        f"{CO} > Pads > Bed pads",
        "Essity",
        "Bed protection underpad with absorbent core.",
        "0.30",
    )
    # Wound care.
    out += _family(
        [
            f"Foam dressing, silicone adhesive border, {s} cm x {s} cm"
            for s in ("7.5", "10", "12.5", "15", "20")
        ],
        f"{WD} > Foam dressings",
        "Medline",
        "Polyurethane foam with a gentle silicone adhesive.",
        "1.20",
    )
    out += _family(
        [f"Foam dressing, non-adhesive, {s} cm x {s} cm" for s in ("5", "10", "20")],
        f"{WD} > Foam dressings",
        "Medline",
        "Polyurethane foam, needs secondary fixation.",
        "0.90",
    )
    out += _family(
        [
            "Allevyn Gentle Border foam dressing, 10 cm x 10 cm",
            "Mepilex Border foam dressing, 10 cm x 10 cm",
            "Mepilex Border foam dressing, 15 cm x 15 cm",
        ],
        f"{WD} > Foam dressings",
        "Smith+Nephew",
        "Branded silicone-bordered foam dressing.",
        "2.40",
    )
    out += _family(
        [
            "Hydrocolloid dressing, 10 cm x 10 cm",
            "Hydrocolloid dressing, 15 cm x 15 cm",
            "Granuflex hydrocolloid dressing, 10 cm x 10 cm",
        ],
        f"{WD} > Hydrocolloid dressings",
        "ConvaTec",
        "For lightly exuding wounds.",
        "1.60",
    )
    out += _family(
        ["Calcium alginate dressing, 5 cm x 5 cm", "Calcium alginate dressing, 10 cm x 10 cm"],
        f"{WD} > Alginate dressings",
        "ConvaTec",
        "Forms a gel on contact with exudate.",
        "1.30",
    )
    out += _family(
        [
            "Transparent film dressing, 6 cm x 7 cm",
            "Transparent film dressing, 10 cm x 12 cm",
            "Tegaderm transparent film dressing, 10 cm x 12 cm",
        ],
        f"{WD} > Film dressings",
        "3M",
        "Vapour permeable film for cannula sites and superficial wounds.",
        "0.40",
    )
    out += _family(
        ["Absorbent dressing pad, 10 cm x 20 cm", "Absorbent dressing pad, 20 cm x 20 cm"],
        f"{WD} > Absorbent pads",
        "Medline",
        "Non-adherent absorbent pad.",
        "0.25",
    )
    out += _family(
        ["Silver alginate dressing, 10 cm x 10 cm", "Medical honey dressing, 10 cm x 10 cm"],
        f"{WD} > Antimicrobial dressings",
        "Advancis",
        "Antimicrobial dressing for infected wounds.",
        "3.10",
    )
    out += _family(
        [
            "Fabric plasters, assorted sizes, box of 100",
            "Blue detectable plasters, 7.5 cm x 2.5 cm, box of 100",
        ],
        "Wound care > Tapes and fixation",
        "Steroplast",
        "Adhesive wound plasters.",
        "0.02",
    )
    out += _family(
        [f"Gauze swab, 8 ply, non-sterile, {s} cm x {s} cm" for s in ("5", "7.5", "10")]
        + ["Gauze swab, 12 ply, sterile, 10 cm x 10 cm, pack of 5"]
        + ["Non-woven swab, 4 ply, 10 cm x 10 cm", "Non-woven swab, 4 ply, 7.5 cm x 7.5 cm"],
        "Wound care",
        "Robinson Healthcare",
        "Absorbent cotton swab for cleaning and packing.",
        "0.01",
    )
    out += _family(
        [
            "Crepe bandage, 7.5 cm x 4.5 m",
            "Crepe bandage, 10 cm x 4.5 m",
            "Cohesive bandage, 10 cm x 4 m",
            "Conforming bandage, 5 cm x 4 m",
            "Tubular bandage, size D, 1 m",
            "Tubular bandage, size E, 1 m",
        ],
        "Wound care > Bandages",
        "Robinson Healthcare",
        "Retention and support bandage.",
        "0.45",
    )
    out += _family(
        ["Surgical tape, paper, 2.5 cm x 10 m", "Surgical tape, silk, 2.5 cm x 5 m"],
        "Wound care > Tapes and fixation",
        "3M",
        "Hypoallergenic adhesive tape.",
        "0.70",
    )
    # Infection prevention.
    out += _family(
        [
            "Disposable apron, polythene, white, roll of 200",
            "Disposable apron, polythene, blue, roll of 200",
            "Isolation gown, fluid repellent, long sleeve",
        ],
        f"{PPE} > Aprons and gowns",
        "Polyco Healthline",
        "Single use protective clothing.",
        "0.03",
    )
    out += _family(
        [
            "Surgical face mask, Type IIR, fluid resistant, box of 50",
            "Surgical face mask, Type II, ear loops, box of 50",
            "FFP3 respirator, valved, duckbill",
            "FFP3 respirator, unvalved, fold flat",
        ],
        f"{PPE} > Face masks and respirators",
        "Alpha Solway",
        "EN 14683 and EN 149 respiratory protection.",
        "0.12",
    )
    out += _family(
        ["Face visor, full face, single use", "Safety glasses, anti-fog, clear"],
        f"{PPE} > Eye protection",
        "Alpha Solway",
        "Splash protection for eyes and face.",
        "0.60",
    )
    out += _family(
        [
            "Alcohol hand rub gel, 500 ml, pump",
            "Alcohol hand rub gel, 100 ml, bottle",
            "Hand sanitiser foam, 400 ml",
        ],
        "Clinical consumables",
        "GOJO",
        "70% alcohol hand hygiene for clinical areas.",
        "3.20",
    )
    out += _family(
        ["Detergent wipes, universal, pack of 200", "Sporicidal wipes, chlorine, pack of 100"],
        "Facilities > Cleaning > Wipes",
        "GAMA Healthcare",
        "Surface cleaning wipes for clinical equipment.",
        "4.80",
    )
    # Wheelchairs.
    out += _family(
        [f"Self-propelled wheelchair, lightweight, {w} inch seat" for w in (16, 18, 20)]
        + ["Self-propelled wheelchair, folding, 18 inch seat, swing-away footrests"],
        f"{WC} > Manual self-propelled wheelchairs",
        "Drive DeVilbiss",
        "Aluminium frame, quick-release rear wheels.",
        "240",
    )
    out += _family(
        [f"Transit wheelchair, lightweight, {w} inch seat" for w in (16, 18)]
        + ['Attendant-propelled wheelchair, folding, 18" seat'],
        f"{WC} > Attendant-propelled wheelchairs",
        "Drive DeVilbiss",
        "Pushed by a carer, with attendant brakes.",
        "180",
    )
    out += _family(
        [
            "Powered wheelchair, folding, 18 inch seat",
            "Electric wheelchair, lightweight, lithium battery",
            "Powerchair, rear wheel drive, 20 inch seat",
        ],
        f"{WC} > Powered wheelchairs",
        "Pride Mobility",
        "Battery powered with joystick control.",
        "1450",
    )
    out += _family(
        ["Bariatric wheelchair, 24 inch seat, 250 kg"],
        f"{WC} > Manual self-propelled wheelchairs",
        "Drive DeVilbiss",
        "Heavy duty steel frame.",
        "520",
    )
    out += _family(
        [
            "Wheelchair cushion, foam, 18 x 16 inch",
            "Wheelchair cushion, gel, 18 x 18 inch",
            "Wheelchair cushion, air cell, 16 x 16 inch",
        ],
        f"{WC} > Wheelchair cushions",
        "Invacare",
        "Seat cushion for wheelchair users.",
        "65",
    )
    out += _family(
        ["Wheelchair tray, clear acrylic", "Wheelchair lap belt, quick release"],
        f"{WC} > Wheelchair accessories",
        "Invacare",
        "Accessory for standard wheelchairs.",
        "28",
    )
    # Walking aids.
    out += _family(
        [
            "Walking frame, folding, height adjustable",
            "Walking frame, fixed, standard height",
            "Wheeled walking frame, two front wheels",
        ],
        f"{MOB} > Walking frames",
        "Days Healthcare",
        "Lightweight aluminium frame with ferrules.",
        "32",
    )
    out += _family(
        ["Rollator, 4-wheel, with seat and basket", "Rollator, 3-wheel, folding, with bag"],
        f"{MOB} > Rollators",
        "Days Healthcare",
        "Wheeled walker with loop brakes.",
        "85",
    )
    out += _family(
        [
            "Walking stick, adjustable, black",
            "Walking stick, folding, with strap",
            "Tripod walking stick, adjustable",
            "Quad cane, large base",
        ],
        f"{MOB} > Walking sticks",
        "Days Healthcare",
        "Height adjustable aluminium stick.",
        "12",
    )
    out += _family(
        ["Elbow crutches, adjustable, pair", "Underarm crutches, adjustable, pair"],
        f"{MOB} > Crutches",
        "Days Healthcare",
        "Aluminium crutches with ferrules.",
        "19",
    )
    out += _family(
        [
            "Slide sheet, tubular, 75 cm x 70 cm",
            "Slide sheet, flat, 1.5 m x 0.7 m",
            "Transfer board, curved",
            "Mobile hoist, electric, 150 kg",
            "Standing hoist, electric, 160 kg",
            "Full body sling, medium",
            "Full body sling, large",
            "Toileting sling, medium",
        ],
        f"{MOB} > Transfer aids",
        "Arjo",
        "Patient handling equipment for safe transfers.",
        "45",
    )
    out += _family(
        [
            "Commode, mobile, with padded seat",
            "Commode chair, static, with arms",
            "Shower commode chair, wheeled",
            "Raised toilet seat, 4 inch, with lid",
            "Raised toilet seat, 6 inch, without lid",
            "Toilet frame, free-standing",
            "Bedpan, disposable, pulp",
            "Slipper bedpan, autoclavable",
            "Urinal bottle, male, with lid",
            "Shower chair, height adjustable, with back",
            "Shower stool, height adjustable",
            "Bath board, slatted, 27 inch",
            "Grab rail, 450 mm, white",
            "Grab rail, 600 mm, chrome",
            "Perching stool, height adjustable, with arms",
        ],
        MOB,
        "NRS Healthcare",
        "Daily living aid for bathroom and toilet.",
        "38",
    )
    # Beds and pressure care.
    out += _family(
        ["Profiling bed, electric, four section", "Community bed, electric, low height"],
        f"{BED} > Hospital beds",
        "Invacare",
        "Electric height and backrest adjustment with side rails.",
        "890",
    )
    out += _family(
        ["Pressure relieving mattress, foam, single", "Alternating air mattress, with pump"],
        f"{BED} > Pressure-relieving mattresses",
        "Invacare",
        "For patients at high risk of pressure ulcers.",
        "310",
    )
    out += _family(
        ["Pressure relieving cushion, gel, 18 x 18 inch", "Pressure relieving cushion, foam, 16 x 16 inch"],
        f"{BED} > Pressure-relieving cushions",
        "Invacare",
        "Seat cushion for pressure ulcer prevention.",
        "75",
    )
    out += _family(
        [
            "Overbed table, height adjustable, C-base",
            "Bed rail, folding, pair",
            "Bed rail bumpers, foam, pair",
        ],
        f"{BED} > Bed rails and accessories",
        "Invacare",
        "Bedside equipment.",
        "60",
    )
    # Diagnostics.
    out += _family(
        [
            "Digital thermometer, oral",
            "Tympanic thermometer, with probe covers",
            "Infrared forehead thermometer, non-contact",
        ],
        f"{DX} > Thermometers",
        "Welch Allyn",
        "Clinical thermometer.",
        "18",
    )
    out += _family(
        [
            "Blood pressure monitor, upper arm, automatic",
            "Blood pressure cuff, adult, large",
            "Blood pressure cuff, adult, standard",
        ],
        f"{DX} > Blood pressure monitors",
        "Omron",
        "Validated blood pressure measurement.",
        "35",
    )
    out += _family(
        ["Pulse oximeter, fingertip"], f"{DX} > Pulse oximeters", "Nonin", "SpO2 and pulse rate.", "24"
    )
    out += _family(
        [
            "Blood glucose meter, with lancing device",
            "Blood glucose test strips, pack of 50",
            "Safety lancets, 28G, box of 200",
        ],
        f"{DX} > Blood glucose testing",
        "Roche",
        "Capillary blood glucose monitoring.",
        "9",
    )
    out += _family(
        ["Urine test strips, 10 parameter, pot of 100"], f"{DX} > Urine testing", "Siemens", "Dipstick.", "11"
    )
    out += _family(
        ["Stethoscope, dual head, adult"], f"{DX} > Stethoscopes", "Littmann", "Acoustic stethoscope.", "70"
    )
    out += _family(["ECG electrodes, foam, pack of 50"], DX, "3M", "Disposable monitoring electrodes.", "6")
    out += _family(
        [
            "Nebuliser mask, adult, with tubing",
            "Oxygen mask, adult, medium concentration",
            "Nasal cannula, adult, with 2 m tubing",
            "Nasogastric tube, 8 Ch, 90 cm",
        ],
        "Clinical consumables",
        "Intersurgical",
        "Respiratory and enteral consumable, single patient use.",
        "0.80",
    )
    out += _family(
        [
            "Vomit bowl, pulp, disposable",
            "Kidney dish, pulp, disposable",
            "Specimen pot, 60 ml, sterile",
            "Universal container, 30 ml, sterile",
            "Tongue depressor, wooden, pack of 100",
        ],
        "Clinical consumables",
        "Vernacare",
        "Ward consumable.",
        "0.10",
    )
    names = [s.name for s in out]
    assert len(names) == len(set(names)), "product names are the judged keys and must be unique"
    return out


def _digits(name: str, salt: str, count: int) -> str:
    value = int(hashlib.sha256(f"{salt}:{name}".encode()).hexdigest(), 16)
    return str(value)[-count:].zfill(count)


def gtin(name: str) -> str:
    """A valid GTIN-13 (UK prefix 50), stored as GTIN-14."""
    return gs1.gtin14(gs1.with_check_digit("50" + _digits(name, "gtin", 10)))


def npc(name: str) -> str:
    """An NHS Supply Chain style product code: three letters and three digits."""
    letters = "".join(chr(ord("A") + int(d) % 26) for d in _digits(name, "npc-letters", 3))
    return letters + _digits(name, "npc", 3)


def part_number(spec: Spec) -> str:
    return f"{spec.manufacturer[:3].upper()}-{_digits(spec.name, 'mpn', 5)}"


def build() -> dict[str, int]:
    """Create the catalogue (needs a migrated database and the factories' app) and return
    {product name: id}. Index it afterwards with search.services.rebuild_index."""
    from django.utils.text import slugify

    from catalogue.models import Category
    from tests.catalogue.factories import OfferFactory, ProductFactory
    from tests.organisations.factories import SupplierFactory

    suppliers = [SupplierFactory(name=n) for n in ("NHS Direct Supplies", "Medline UK", "Bunzl Healthcare")]
    categories = {c.path: c for c in Category.objects.all()}
    ids: dict[str, int] = {}
    seen_npc: set[str] = set()
    for n, spec in enumerate(specs()):
        code = npc(spec.name)
        assert code not in seen_npc, f"NPC collision for {spec.name}"
        seen_npc.add(code)
        product = ProductFactory(
            name=spec.name,
            slug=slugify(spec.name)[:200] + f"-{n}",
            category=categories[spec.category],
            manufacturer=spec.manufacturer,
            manufacturer_part_number=part_number(spec),
            gtin=gtin(spec.name),
            npc=code,
            description=spec.description,
        )
        OfferFactory(
            product=product,
            supplier=suppliers[n % len(suppliers)],
            supplier_sku=f"SKU-{_digits(spec.name, 'sku', 6)}",
            pack_price=Decimal(spec.price),
        )
        ids[spec.name] = product.id
    return ids
