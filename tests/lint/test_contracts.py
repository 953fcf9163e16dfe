"""The project's own import-linter contracts (lint/contracts.py) catch what they promise to catch.

Each test feeds a small made-up project: a source that breaks the contract must be reported where it
breaks it, and a clean one must pass.
"""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import grimp
import pytest
from importlinter.domain.contract import InvalidContractOptions

from lint import contracts
from lint.contracts import AppInterfacesContract, ModelWritesContract, find_foreign_writes

APPS = {"catalogue", "pricing", "organisations"}


def writes(source: str, module: str = "pricing.services") -> list[tuple[int, str, str]]:
    found = find_foreign_writes(textwrap.dedent(source), module=module, apps=APPS)
    return [(w.line, w.model, w.call) for w in found]


# --- model_writes: the source analysis ------------------------------------------------------------


def test_every_way_of_writing_another_apps_model_is_reported_with_its_line():
    source = """\
        from catalogue.models import Offer, Product
        from catalogue import models as catalogue_models
        import organisations.models


        def rename(pk: int, name: str) -> None:
            Product.objects.create(name=name)
            Product.objects.filter(pk=pk).update(name=name)
            stale = Product.objects.filter(is_active=False)
            stale.delete()
            product = Product.objects.get(pk=pk)
            product.save()
            for offer in Offer.objects.filter(product=product):
                offer.delete()
            Product(name=name).save()
            catalogue_models.Offer.objects.bulk_create([])
            organisations.models.Organisation.objects.update_or_create(slug="x")
            Offer.live.update(status="withdrawn")


        def retire(product: Product | None, offers: list[Offer]) -> None:
            product.delete()
            for offer in offers:
                offer.save(update_fields=["status"])
        """

    assert writes(source) == [
        (7, "catalogue.models.Product", "Product.objects.create(...)"),
        (8, "catalogue.models.Product", "Product.objects.filter(...).update(...)"),
        (10, "catalogue.models.Product", "stale.delete()"),
        (12, "catalogue.models.Product", "product.save()"),
        (14, "catalogue.models.Offer", "offer.delete()"),
        (15, "catalogue.models.Product", "Product(...).save()"),
        (16, "catalogue.models.Offer", "catalogue_models.Offer.objects.bulk_create(...)"),
        (
            17,
            "organisations.models.Organisation",
            "organisations.models.Organisation.objects.update_or_create(...)",
        ),
        (18, "catalogue.models.Offer", "Offer.live.update(...)"),
        (22, "catalogue.models.Product", "product.delete()"),
        (24, "catalogue.models.Offer", "offer.save(...)"),
    ]


def test_reading_another_apps_models_and_writing_ones_own_pass():
    source = """\
        from catalogue.models import Product
        from pricing.models import PurchaseHistoryLine


        def record(pk: int) -> None:
            product = Product.objects.select_related("category").get(pk=pk)
            names = list(Product.objects.filter(is_active=True).values_list("name", flat=True))
            try:
                Product.objects.get(slug="x")
            except Product.DoesNotExist:
                pass
            line = PurchaseHistoryLine(product=product, description=names[0])
            line.save()
            PurchaseHistoryLine.objects.filter(product=product).update(description="")
            PurchaseHistoryLine.objects.filter(product=product).delete()
            cache = {}
            cache.update(a=1)
        """

    assert writes(source) == []


def test_an_app_writes_its_own_models_whatever_room_of_it_does():
    source = """\
        from catalogue.models import Product

        def touch() -> None:
            Product.objects.update(is_active=True)
        """

    assert writes(source, module="catalogue.planner.write") == []


def test_a_name_holds_another_apps_rows_only_in_the_function_that_binds_it():
    source = """\
        from catalogue.models import Product
        from pricing.models import Period


        def one() -> None:
            rows = Product.objects.all()
            return rows


        def two() -> None:
            rows = Period.objects.all()
            rows.delete()
        """

    assert writes(source) == []


def test_a_name_bound_to_two_models_in_one_function_is_read_and_the_reading_ends():
    """`lint-imports` ran for ever on a function that bound one name to two models' rows (each pass
    of the fixed point flipped it back): the analysis must end, still finding the write."""
    source = """\
        from catalogue.models import Offer, Product


        def both() -> None:
            rows = Product.objects.all()
            rows = Offer.objects.filter(live=True)
            rows.update(live=False)
        """

    # One of the two models is named (the analysis is flow-insensitive); the write is not missed.
    assert [(line, call) for line, _model, call in writes(source)] == [(7, "rows.update(...)")]


# --- model_writes: the contract over a package on disk --------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A made-up project with two apps, `stockroom` (owns Item) and `shopfront`, on sys.path."""

    def make(files: dict[str, str]) -> grimp.ImportGraph:
        for path, text in files.items():
            file = tmp_path / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(textwrap.dedent(text))
        monkeypatch.syspath_prepend(str(tmp_path))
        importlib.invalidate_caches()
        return grimp.build_graph("stockroom", "shopfront", cache_dir=None)

    return make


@pytest.fixture(autouse=True)
def _fresh_sources():
    """Each test's packages are its own: forget where the last test's were."""
    contracts.clear_caches()
    yield
    contracts.clear_caches()


# stockroom owns Item and writes it in its services.
STOCKROOM = {
    "stockroom/__init__.py": "",
    "stockroom/models.py": "class Item:\n    objects = None\n",
    "stockroom/services.py": """\
        from stockroom.models import Item

        def item_add():
            Item.objects.create()
        """,
    "shopfront/__init__.py": "",
}


def model_writes(allow: list[str] | None = None) -> ModelWritesContract:
    options = {"allow": allow} if allow is not None else {}
    return ModelWritesContract(
        name="writes", session_options={"root_packages": ["stockroom", "shopfront"]}, contract_options=options
    )


def test_the_contract_names_the_module_line_and_model_written(project):
    graph = project(
        STOCKROOM
        | {
            "shopfront/basket.py": """\
                from stockroom.models import Item

                def checkout(pk):
                    item = Item.objects.get(pk=pk)
                    item.save()
                """,
        }
    )

    check = model_writes().check(graph, verbose=False)

    assert not check.kept
    assert [w.describe() for w in check.metadata["writes"]] == [
        "shopfront.basket:5 writes stockroom.models.Item: item.save()"
    ]


def test_a_write_through_the_owning_apps_service_keeps_the_contract(project):
    graph = project(
        STOCKROOM
        | {
            "shopfront/basket.py": """\
                from stockroom.models import Item
                from stockroom.services import item_add

                def checkout(pk):
                    Item.objects.get(pk=pk)
                    item_add()
                """,
        }
    )

    check = model_writes().check(graph, verbose=False)

    assert check.kept
    assert check.warnings == []


def test_an_allowed_module_is_not_read_and_an_allowance_matching_nothing_is_a_warning(project):
    graph = project(
        STOCKROOM | {"shopfront/seed.py": "from stockroom.models import Item\n\nItem.objects.create()\n"}
    )

    check = model_writes(
        allow=["shopfront.seed: the seed makes the items", "shopfront.gone: no such module"]
    ).check(graph, verbose=False)

    assert check.kept
    assert check.warnings == ["allow entry 'shopfront.gone' matches no module: remove it"]


def test_an_allowance_without_a_reason_is_refused():
    with pytest.raises(InvalidContractOptions) as refused:
        model_writes(allow=["shopfront.seed"])
    assert "needs a reason" in refused.value.errors["allow"]


# --- app_interfaces ---------------------------------------------------------------------------------


def interfaces_graph(imports: list[tuple[str, str]]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for line, (importer, imported) in enumerate(imports, start=1):
        graph.add_import(importer=importer, imported=imported, line_number=line, line_contents="import")
    return graph


def app_interfaces() -> AppInterfacesContract:
    return AppInterfacesContract(
        name="interfaces",
        session_options={"root_packages": ["project", "kernel", "warehouse", "till"]},
        contract_options={
            "internal": ["views", "api", "forms", "tasks", "demo", "urls", "api_urls", "_*"],
            "gathered": ["urls", "api_urls", "demo"],
            "gatherers": ["project: the project package gathers the apps"],
            "public": ["kernel.api: shared API helpers", "kernel.forms: shared form helpers"],
        },
    )


def test_importing_another_apps_internals_is_reported_with_the_line():
    graph = interfaces_graph(
        [
            ("till.views", "warehouse.search.views"),  # a room's pages are internal too
            ("till.services", "warehouse.tasks"),
            ("till.selectors", "warehouse._planner"),  # a private module
            ("till.urls", "warehouse.urls"),  # only the project gathers URLs
            ("till.demo", "warehouse.demo"),
        ]
    )

    check = app_interfaces().check(graph, verbose=False)

    assert not check.kept
    assert [link.describe() for link in check.metadata["illegal"]] == [
        "till.demo -> warehouse.demo (l.5): `demo` is internal to its app",
        "till.selectors -> warehouse._planner (l.3): `_planner` is internal to its app",
        "till.services -> warehouse.tasks (l.2): `tasks` is internal to its app",
        "till.urls -> warehouse.urls (l.4): `urls` is internal to its app",
        "till.views -> warehouse.search.views (l.1): `views` is internal to its app",
    ]


def test_public_modules_own_internals_the_project_gathering_and_external_packages_pass():
    graph = interfaces_graph(
        [
            ("till.views", "warehouse.selectors"),
            ("till.api", "warehouse.services"),
            ("till.api", "warehouse.models"),
            ("till.api", "kernel.api"),  # public on purpose
            ("warehouse.urls", "warehouse.search.views"),  # an app's own room
            ("project.urls", "warehouse.urls"),
            ("project.api_urls", "till.api_urls"),
            ("till.views", "requests.api"),  # not an app
        ]
    )

    check = app_interfaces().check(graph, verbose=False)

    assert check.kept
    assert check.warnings == ["public entry 'kernel.forms' is imported by no other app: remove it"]


def test_the_project_gathers_urls_but_not_views():
    graph = interfaces_graph([("project.start", "warehouse.views")])

    check = app_interfaces().check(graph, verbose=False)

    assert [link.describe() for link in check.metadata["illegal"]] == [
        "project.start -> warehouse.views (l.1): `views` is internal to its app"
    ]


def test_a_private_name_of_another_app_is_reported_from_the_source(project):
    graph = project(
        STOCKROOM
        | {
            "stockroom/services.py": "def item_add():\n    pass\n\n\ndef _reserve():\n    pass\n",
            "shopfront/basket.py": "from stockroom.services import _reserve, item_add\n",
            "shopfront/till.py": "from shopfront.basket import _total\n",  # its own app's: fine
        }
    )
    contract = AppInterfacesContract(
        name="interfaces",
        session_options={"root_packages": ["stockroom", "shopfront"]},
        contract_options={"internal": ["views", "_*"]},
    )

    check = contract.check(graph, verbose=False)

    assert [link.describe() for link in check.metadata["illegal"]] == [
        "shopfront.basket -> stockroom.services._reserve (l.1): `_reserve` is internal to its app"
    ]


def test_names_that_only_look_like_models_are_not_taken_for_them():
    source = """\
        from catalogue.models import Product


        def check(pk: int, row: "Product") -> None:
            error = Product.DoesNotExist("gone")
            error.save()
            label = "Product"
            label.delete()
            row.delete()
        """

    assert writes(source) == [(9, "catalogue.models.Product", "row.delete()")]
