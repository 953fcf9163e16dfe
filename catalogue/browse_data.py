"""Per-product browse data (`ProductBrowse`) and the per-offer `Offer.buyable` flag, kept as data.

Both are `catalogue.selectors.buyable_offer_q` stored: the flag is that rule evaluated per offer, the
product's row aggregates its flagged offers (lowest unit price, counts, suppliers, stock states,
patient eligibility) with its category path. They are refreshed in the transaction of the change:

- single saves of an offer, a product, a supplier or a category: the hooks below (post_save and
  post_delete, synchronous, so inside the saving transaction) - the catalogue's services, the back
  office and organisations' services all save through the ORM;
- bulk writes (`catalogue.planner.write.offers_apply`, the demo seed): they call
  `product_browse_refresh` with the products they touched;
- dates passing: the daily beat task (`catalogue.tasks.reindex_offers_changing_date`) calls
  `product_browse_refresh_stale`, which finds every offer whose flag no longer matches the rule.

Each buyable offer also has its row (`OfferBrowse`: the offer's filtered terms with its product's
category path), rewritten with its product's.

Everything is set-based SQL: two UPDATEs for the flags and one INSERT ... SELECT per table, whatever
the number of products (their ids joined from a temporary table when there are many,
`common.staging`). `manage.py browse_rebuild` (`product_browse_rebuild`) recomputes
all of it.

Every refresh also moves the version of what is kept for every buyer (`catalogue.caching`) when
its transaction commits, so no cached page outlives the change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import connection, models, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Lower
from django.db.models.lookups import GreaterThan
from django.db.models.signals import post_delete, post_save, pre_save

from catalogue.caching import catalogue_changed, categories_changed
from catalogue.models import (
    STOCK_COUNTS,
    STOCK_PRICES,
    Category,
    CategoryFacetCount,
    Offer,
    OfferBrowse,
    Product,
    ProductBrowse,
    ProductBrowseSubset,
    VolumeTier,
)
from catalogue.selectors import buyable_offer_q
from common.staging import Staging
from organisations.models import Organisation, OrganisationKind

_BUYABLE = Q(offers__buyable=True)


class _IdArray(models.Aggregate):
    """The distinct values as a JSON array: json_group_array on SQLite, jsonb_agg on PostgreSQL."""

    function = "json_group_array"
    allow_distinct = True
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="jsonb_agg", **extra_context)


def _columns(offers: Q) -> dict[str, models.Expression]:
    """The columns of a browse row and how each is computed from the product and its offers that
    meet `offers` (lookups from the product: "offers__...")."""
    return {
        "product_id": models.F("id"),
        "category_path": models.F("category__path"),
        "name_key": Lower("name"),
        "min_unit_price": Min("offers__unit_price", filter=offers),
        "max_unit_price": Max("offers__unit_price", filter=offers),
        "min_lead_time_days": Min("offers__lead_time_days", filter=offers),
        "offer_count": Count("offers", filter=offers),
        "supplier_count": Count("offers__supplier_id", filter=offers, distinct=True),
        **{
            column: Count("offers", filter=offers & Q(offers__stock_status=status))
            for status, column in STOCK_COUNTS.items()
        },
        **{
            column: aggregate("offers__unit_price", filter=offers & Q(offers__stock_status=status))
            for status, pair in STOCK_PRICES.items()
            for aggregate, column in zip((Min, Max), pair, strict=True)
        },
        "patient_eligible": GreaterThan(Count("offers", filter=offers & Q(offers__patient_eligible=True)), 0),
        "supplier_ids": Coalesce(
            _IdArray("offers__supplier_id", filter=offers, distinct=True),
            models.Value([], output_field=models.JSONField()),
        ),
    }


def _subset_offers(subset: str) -> Q:
    """A subset's buyable offers, from the product."""
    return _BUYABLE & Q(
        **{f"offers__{name}": value for name, value in ProductBrowseSubset.SUBSETS[subset].items()}
    )


def _insert(products: QuerySet, browse_model: type[models.Model], subset: str | None = None) -> None:
    """INSERT ... SELECT of these products' rows: every product into `browse_model`, or, for a
    subset, the products with at least one of its offers (with the subset's name)."""
    # Only the columns the table has (a data migration's model may predate some).
    stored = {field.attname for field in browse_model._meta.concrete_fields}
    columns = {
        name: expression
        for name, expression in _columns(_BUYABLE if subset is None else _subset_offers(subset)).items()
        if name in stored
    }
    aliases = {f"b_{name}": expression for name, expression in columns.items()}
    rows = products.order_by().annotate(**aliases)
    names = list(columns)
    if subset is not None:
        rows = rows.filter(b_offer_count__gt=0).annotate(b_subset=models.Value(subset))
        aliases["b_subset"] = None
        names.append("subset")
    select_sql, params = rows.values_list(*aliases).query.sql_with_params()
    table = connection.ops.quote_name(browse_model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in names)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quoted}) {select_sql}", params)


def _offer_row_columns(offer_model: type[models.Model], buyable: Q) -> dict[str, str | models.Expression]:
    """The columns of an offer's browse row and what each is computed from (from the offer), the
    offers counted as buyable being those meeting `buyable` (the flag, or the rule itself)."""
    return {
        "offer_id": "id",
        "product_id": "product_id",
        "supplier_id": "supplier_id",
        "category_path": "product__category__path",
        "name_key": Lower("product__name"),
        "unit_price": "unit_price",
        "pack_price": "pack_price",
        "lead_time_days": "lead_time_days",
        "stock_status": "stock_status",
        "patient_eligible": "patient_eligible",
        "only_of_supplier": ~Exists(
            offer_model.objects.filter(
                buyable, product_id=OuterRef("product_id"), supplier_id=OuterRef("supplier_id")
            ).exclude(pk=OuterRef("pk"))
        ),
    }


def _insert_offer_rows(offers: QuerySet, rows_model: type[models.Model] = OfferBrowse) -> None:
    """INSERT ... SELECT of these offers' browse rows (the flagged ones among them)."""
    # Only the columns the table has (a data migration's model may predate some).
    stored = {field.attname for field in rows_model._meta.concrete_fields}
    columns = {
        name: source
        for name, source in _offer_row_columns(offers.model, Q(buyable=True)).items()
        if name in stored
    }
    select_sql, params = (
        offers.filter(buyable=True).order_by().values_list(*columns.values()).query.sql_with_params()
    )
    table = connection.ops.quote_name(rows_model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quoted}) {select_sql}", params)


def offer_rows_fill(
    *, offer_model: type[models.Model] = Offer, rows_model: type[models.Model] = OfferBrowse
) -> int:
    """Every flagged offer's browse row, from scratch (the migration that made the table; the
    rebuild). Returns their number."""
    with transaction.atomic():
        rows_model.objects.all().delete()
        _insert_offer_rows(offer_model.objects.all(), rows_model)
        return rows_model.objects.count()


def facet_counts(rows: QuerySet, subset: str = "") -> Counter:
    """{(category path, facet, value): listed products} over these browse rows (of `subset`, whose
    name prefixes the facets): two grouped queries (the counts, and the suppliers unnested from their
    JSON arrays by the database)."""
    listed = rows.filter(offer_count__gt=0).order_by()
    counts: Counter = Counter()
    C = CategoryFacetCount
    listed_facet, stock_facet, patient_facet, supplier_facet = (
        C.named(subset, facet) for facet in (C.LISTED, C.STOCK, C.PATIENT, C.SUPPLIER)
    )

    aggregates = {
        "n": Count("pk"),
        "patient": Count("pk", filter=Q(patient_eligible=True)),
        **{status: Count("pk", filter=Q(**{f"{column}__gt": 0})) for status, column in STOCK_COUNTS.items()},
    }
    for row in listed.values("category_path").annotate(**aggregates):
        path = row["category_path"]
        counts[(path, listed_facet, "")] += row["n"]
        counts[(path, patient_facet, "true")] += row["patient"]
        for status in STOCK_COUNTS:
            counts[(path, stock_facet, str(status))] += row[status]
    sql, params = listed.values("category_path", "supplier_ids").query.sql_with_params()
    each = (
        "jsonb_array_elements_text(listed.supplier_ids)"
        if connection.vendor == "postgresql"
        else "json_each(listed.supplier_ids)"
    )
    with connection.cursor() as cursor:
        # Both parts are SQL Django compiled (values stay parameters) and a fixed function name.
        cursor.execute(
            f"SELECT listed.category_path, supplier.value, COUNT(*) FROM ({sql}) listed, {each} supplier "  # noqa: S608
            "GROUP BY listed.category_path, supplier.value",
            params,
        )
        for path, supplier, n in cursor.fetchall():
            counts[(path, supplier_facet, str(supplier))] += n
    return Counter({key: n for key, n in counts.items() if n})


def _add_facet_counts(delta: Counter, facet_model: type[models.Model] = CategoryFacetCount) -> None:
    """Add `delta` to the stored counts in one upsert per 500 keys (count = count + delta, so two
    transactions changing one category never lose each other's difference)."""
    keys = [(key, n) for key, n in delta.items() if n]
    if not keys:
        return
    table = connection.ops.quote_name(facet_model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
            params = [part for (path, facet, value), n in batch for part in (path, facet, value, n)]
            cursor.execute(
                f"INSERT INTO {table} (category_path, facet, value, count) VALUES {values} "  # noqa: S608
                "ON CONFLICT (category_path, facet, value) "
                f"DO UPDATE SET count = {table}.count + excluded.count",
                params,
            )


def _write(products: QuerySet[Product]) -> None:
    """Replace the rows of these products (all offers, and each subset) and of their offers with
    their recomputation (DELETE, then INSERT ... SELECT), and move their categories' facet counts by
    the difference."""
    OfferBrowse.objects.filter(product__in=products.values("id")).delete()
    _insert_offer_rows(Offer.objects.filter(product__in=products.values("id")))
    delta: Counter = Counter()
    for subset in ("", *ProductBrowseSubset.SUBSETS):
        if subset:
            rows = ProductBrowseSubset.objects.filter(subset=subset, product__in=products.values("id"))
        else:
            rows = ProductBrowse.objects.filter(product__in=products.values("id"))
        delta.subtract(facet_counts(rows, subset))
        rows.delete()
        _insert(products, ProductBrowseSubset if subset else ProductBrowse, subset or None)
        delta.update(facet_counts(rows, subset))
    _add_facet_counts(delta)


def _flag(offers: QuerySet[Offer]) -> None:
    """Set `buyable` on these offers from the one rule: only the offers whose flag changes are written."""
    offers.filter(buyable_offer_q()).exclude(buyable=True).update(buyable=True)
    offers.exclude(buyable_offer_q()).exclude(buyable=False).update(buyable=False)


def product_browse_refresh(product_ids: Iterable[int] | QuerySet) -> None:
    """Recompute the offers' flags and the browse rows of these products (ids, or a query of ids),
    inside the caller's transaction; the pages kept for every buyer go when it commits."""
    catalogue_changed()
    with transaction.atomic():
        if isinstance(product_ids, QuerySet):
            _refresh(product_ids)
            return
        listed = sorted(set(product_ids))
        if not listed:
            return
        # Many ids are staged in a temporary table and joined, in one pass of each statement, rather
        # than written into every statement's SQL chunk by chunk.
        with Staging() as staging:
            _refresh(staging.values(listed, kind="integer"))


def _refresh(product_ids: QuerySet | list[int] | RawSQL) -> None:
    _flag(Offer.objects.filter(product_id__in=product_ids))
    _write(Product.objects.filter(id__in=product_ids))


def product_browse_rebuild(
    *,
    offer_model: type[models.Model] = Offer,
    product_model: type[models.Model] = Product,
    browse_model: type[models.Model] = ProductBrowse,
    facet_model: type[models.Model] = CategoryFacetCount,
    subset_model: type[models.Model] | None = None,
    offer_rows_model: type[models.Model] | None = None,
) -> int:
    """Recompute every flag, every browse row (all offers and each subset) and every category's facet
    counts (the data migrations, after a restore, or to check nothing drifted). Returns the number of
    products. The models may be a migration's own; `subset_model` None is `ProductBrowseSubset` with
    the project's own models, and no subsets with a migration's made before the subsets were; so does
    `offer_rows_model` (`OfferBrowse`)."""
    if subset_model is None and browse_model is ProductBrowse:
        subset_model = ProductBrowseSubset
    if offer_rows_model is None and browse_model is ProductBrowse:
        offer_rows_model = OfferBrowse
    catalogue_changed()
    categories_changed()  # after a restore or a data migration, the categories may differ too
    with transaction.atomic():
        _flag(offer_model.objects.all())
        browse_model.objects.all().delete()
        _insert(product_model.objects.all(), browse_model)
        facet_model.objects.all().delete()
        counts = facet_counts(browse_model.objects.all())
        if subset_model is not None:
            subset_model.objects.all().delete()
            for subset in ProductBrowseSubset.SUBSETS:
                _insert(product_model.objects.all(), subset_model, subset)
                counts.update(facet_counts(subset_model.objects.filter(subset=subset), subset))
        _add_facet_counts(counts, facet_model)
        if offer_rows_model is not None:
            offer_rows_fill(offer_model=offer_model, rows_model=offer_rows_model)
        return browse_model.objects.count()


def stale_product_ids() -> list[int]:
    """Products with an offer whose flag no longer matches the rule (an offer passed its start or end
    date since it was last written): one query over the offers."""
    q = buyable_offer_q()
    stale = Offer.objects.filter((q & Q(buyable=False)) | (~q & Q(buyable=True)))
    return list(stale.values_list("product_id", flat=True).distinct())


def product_browse_refresh_stale() -> list[int]:
    """The beat task's part: refresh the products whose offers' flags have gone stale. Returns them."""
    product_ids = stale_product_ids()
    product_browse_refresh(product_ids)
    return product_ids


def browse_expected(product_id: int, subset: str = "") -> dict | None:
    """One product's browse row recomputed from its offers with `buyable_offer_q` itself (not the
    flag), for checks and tests: the values `ProductBrowse` must hold (or its `ProductBrowseSubset`
    row of `subset`: None when it has no such offer)."""
    live = Offer.objects.filter(buyable_offer_q(), product_id=product_id)
    if subset:
        live = live.filter(**ProductBrowseSubset.SUBSETS[subset])
        if not live.exists():
            return None
    offers = list(
        live.values("unit_price", "lead_time_days", "supplier_id", "stock_status", "patient_eligible")
    )
    product = Product.objects.select_related("category").get(pk=product_id)
    leads = [o["lead_time_days"] for o in offers if o["lead_time_days"] is not None]
    return {
        "category_path": product.category.path,
        "name_key": product.name.lower(),
        "min_unit_price": min((o["unit_price"] for o in offers), default=None),
        "max_unit_price": max((o["unit_price"] for o in offers), default=None),
        "min_lead_time_days": min(leads, default=None),
        "offer_count": len(offers),
        "supplier_count": len({o["supplier_id"] for o in offers}),
        **{
            column: sum(1 for o in offers if o["stock_status"] == status)
            for status, column in STOCK_COUNTS.items()
        },
        **{
            column: pick((o["unit_price"] for o in offers if o["stock_status"] == status), default=None)
            for status, pair in STOCK_PRICES.items()
            for pick, column in zip((min, max), pair, strict=True)
        },
        "patient_eligible": any(o["patient_eligible"] for o in offers),
        "supplier_ids": sorted({o["supplier_id"] for o in offers}),
    }


def offer_rows_expected() -> set[tuple]:
    """Every buyable offer's browse row recomputed with `buyable_offer_q` itself (not the flag), for
    checks and tests: the rows `OfferBrowse` must hold, as tuples of `_offer_row_columns`."""
    columns = _offer_row_columns(Offer, buyable_offer_q())
    return set(Offer.objects.filter(buyable_offer_q()).values_list(*columns.values()))


def offer_rows_stored() -> set[tuple]:
    return set(OfferBrowse.objects.values_list(*_offer_row_columns(Offer, Q())))


def facet_counts_stored() -> Counter:
    """The stored facet counts (for checks and tests: they must equal `facet_counts` of all rows)."""
    return Counter(
        {
            (row.category_path, row.facet, row.value): row.count
            for row in CategoryFacetCount.objects.exclude(count=0)
        }
    )


def browse_stored(product_id: int, subset: str = "") -> dict | None:
    if subset:
        row = ProductBrowseSubset.objects.filter(product_id=product_id, subset=subset).first()
        if row is None:
            return None
    else:
        row = ProductBrowse.objects.get(product_id=product_id)
    return {
        "category_path": row.category_path,
        "name_key": row.name_key,
        "min_unit_price": row.min_unit_price,
        "max_unit_price": row.max_unit_price,
        "min_lead_time_days": row.min_lead_time_days,
        "offer_count": row.offer_count,
        "supplier_count": row.supplier_count,
        **{column: getattr(row, column) for column in STOCK_COUNTS.values()},
        **{column: getattr(row, column) for pair in STOCK_PRICES.values() for column in pair},
        "patient_eligible": bool(row.patient_eligible),
        "supplier_ids": sorted(row.supplier_ids),
    }


# Hooks: single saves through the ORM, refreshed synchronously inside the saving transaction.
def _offer_saved(sender, instance: Offer, **kwargs) -> None:
    product_browse_refresh([instance.product_id])


def _product_saved(sender, instance: Product, **kwargs) -> None:
    product_browse_refresh([instance.pk])


def _category_saved(sender, instance: Category, created: bool = False, **kwargs) -> None:
    catalogue_changed()  # a new category changes the tree, though no product is in it yet
    categories_changed()
    if created:
        return
    product_browse_refresh(
        Product.objects.filter(
            Q(category=instance) | Q(category__path__startswith=instance.path + " > ")
        ).values("id")
    )


def _organisation_saving(sender, instance: Organisation, **kwargs) -> None:
    # What `is_active` was, so that a supplier's other edits (its name, its address) leave its
    # products' rows alone: only being deactivated or reactivated changes what can be bought.
    if instance.pk is not None and instance.kind == OrganisationKind.SUPPLIER:
        instance._browse_was_active = (
            Organisation.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
        )


def _organisation_saved(sender, instance: Organisation, created: bool = False, **kwargs) -> None:
    # A supplier deactivated or reactivated (its service or the back office) takes its offers out of,
    # or back into, what can be bought.
    if created or instance.kind != OrganisationKind.SUPPLIER:
        return
    if getattr(instance, "_browse_was_active", None) == instance.is_active:
        return
    product_browse_refresh(Offer.objects.filter(supplier_id=instance.pk).values("product_id"))


def _shown_changed(sender, **kwargs) -> None:
    # Changes that leave the browse data alone but show on the pages (tiers, a category removed).
    catalogue_changed()
    if sender is Category:
        categories_changed()


def register() -> None:
    for model in (VolumeTier, Category, Product):
        post_delete.connect(
            _shown_changed, sender=model, dispatch_uid=f"browse-cache-{model.__name__}-delete"
        )
    post_save.connect(_shown_changed, sender=VolumeTier, dispatch_uid="browse-cache-VolumeTier-save")
    post_save.connect(_offer_saved, sender=Offer, dispatch_uid="browse-Offer-save")
    post_delete.connect(_offer_saved, sender=Offer, dispatch_uid="browse-Offer-delete")
    post_save.connect(_product_saved, sender=Product, dispatch_uid="browse-Product-save")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="browse-Category-save")
    pre_save.connect(_organisation_saving, sender=Organisation, dispatch_uid="browse-Organisation-saving")
    post_save.connect(_organisation_saved, sender=Organisation, dispatch_uid="browse-Organisation-save")
