"""The marketplace's category tree, so every install, test and import starts from the same one.

The tree is written out here (not imported from app code) so this migration always does the
same thing. Nodes that exist already are left alone; reversing removes only unused nodes.
"""

from django.db import migrations
from django.utils.text import slugify

SEPARATOR = " > "

# (name, children); a leaf is (name, ()).
TREE = [
    ("Clinical consumables", [
        ("Hosiery", [
            ("Anti-embolism stockings", ()),
            ("Compression hosiery", ()),
            ("Bandages and wraps", ()),
        ]),
        ("Gloves", [
            ("Examination gloves", [("Nitrile", ()), ("Latex", ()), ("Vinyl", ())]),
            ("Surgical gloves", [("Nitrile", ()), ("Latex", ()), ("Polyisoprene", ())]),
        ]),
        ("Syringes and needles", [
            ("Syringes", ()),
            ("Hypodermic needles", ()),
            ("Safety needles", ()),
            ("Insulin syringes and pen needles", ()),
            ("Sharps containers", ()),
        ]),
        ("Infusion and IV", [("Cannulas", ()), ("Giving sets", ()), ("Extension sets and connectors", ())]),
        ("Personal protective equipment", [
            ("Aprons and gowns", ()),
            ("Face masks and respirators", ()),
            ("Eye protection", ()),
        ]),
    ]),
    ("Wound care", [
        ("Dressings", [
            ("Foam dressings", ()),
            ("Hydrocolloid dressings", ()),
            ("Alginate dressings", ()),
            ("Antimicrobial dressings", ()),
            ("Film dressings", ()),
            ("Absorbent pads", ()),
        ]),
        ("Bandages", ()),
        ("Tapes and fixation", ()),
        ("Skin closures", ()),
        ("Negative pressure wound therapy", ()),
    ]),
    ("Continence", [
        ("Pads", [("Insert pads", ()), ("All-in-one pads", ()), ("Pull-up pants", ()), ("Bed pads", ())]),
        ("Catheters", [("Intermittent catheters", ()), ("Foley catheters", ()), ("Sheath catheters", ())]),
        ("Drainage bags", ()),
        ("Skin care", ()),
    ]),
    ("Mobility aids", [
        ("Walking frames", ()),
        ("Walking sticks", ()),
        ("Crutches", ()),
        ("Rollators", ()),
        ("Transfer aids", ()),
    ]),
    ("Wheelchairs", [
        ("Manual self-propelled wheelchairs", ()),
        ("Attendant-propelled wheelchairs", ()),
        ("Powered wheelchairs", ()),
        ("Wheelchair cushions", ()),
        ("Wheelchair accessories", ()),
    ]),
    ("Beds and pressure care", [
        ("Hospital beds", ()),
        ("Community beds", ()),
        ("Pressure-relieving mattresses", ()),
        ("Pressure-relieving cushions", ()),
        ("Bed rails and accessories", ()),
    ]),
    ("Diagnostics", [
        ("Thermometers", ()),
        ("Blood pressure monitors", ()),
        ("Pulse oximeters", ()),
        ("Blood glucose testing", ()),
        ("Urine testing", ()),
        ("Rapid tests", ()),
        ("Stethoscopes", ()),
    ]),
    ("Theatre", [
        ("Drapes", ()),
        ("Surgical gowns", ()),
        ("Surgical instruments", ()),
        ("Sutures", ()),
        ("Procedure packs", ()),
        ("Anaesthesia consumables", ()),
    ]),
    ("Facilities", [
        ("Cleaning", [("Detergents and disinfectants", ()), ("Wipes", ()), ("Cleaning equipment", ())]),
        ("Linen", [("Bed linen", ()), ("Towels", ()), ("Patient gowns", ())]),
        ("Waste", [("Clinical waste bags", ()), ("Bins and holders", ())]),
    ]),
    ("Services", [
        ("Maintenance", [("Equipment servicing", ()), ("Calibration", ())]),
        ("Training", ()),
        ("Transport", [("Patient transport", ()), ("Equipment delivery and collection", ())]),
        ("Decontamination", ()),
    ]),
]


def _walk(nodes, parent_path=None):
    for name, children in nodes:
        path = f"{parent_path}{SEPARATOR}{name}" if parent_path else name
        yield path, name, parent_path
        yield from _walk(children, path)


def create_tree(apps, schema_editor):
    Category = apps.get_model("catalogue", "Category")
    by_path = {c.path: c for c in Category.objects.all()}
    slugs = {c.slug for c in by_path.values()}
    for path, name, parent_path in _walk(TREE):
        if path in by_path:
            continue
        parent = by_path[parent_path] if parent_path else None
        slug = slugify(name)
        if slug in slugs:
            # "Nitrile" is both an examination and a surgical glove: prefix the parent's slug.
            slug = f"{parent.slug}-{slug}" if parent else slug
        base, counter = slug, 2
        while slug in slugs:
            slug = f"{base}-{counter}"
            counter += 1
        category = Category.objects.create(
            name=name,
            slug=slug,
            parent=parent,
            path=path,
            depth=path.count(SEPARATOR),
        )
        by_path[path] = category
        slugs.add(slug)


def remove_tree(apps, schema_editor):
    Category = apps.get_model("catalogue", "Category")
    paths = [path for path, _, _ in _walk(TREE)]
    # Deepest first, and only categories nothing refers to.
    for path in sorted(paths, key=lambda p: p.count(SEPARATOR), reverse=True):
        Category.objects.filter(path=path, products__isnull=True, children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0003_offer_moderation_note"),
    ]

    operations = [
        migrations.RunPython(create_tree, remove_tree),
    ]
