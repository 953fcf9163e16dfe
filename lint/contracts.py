"""import-linter contract types that keep the apps meeting through each other's public modules.

Registered in `pyproject.toml` (`contract_types` under `[tool.importlinter]`) and run by
`lint-imports` in `make lint`:

- `app_interfaces`: an app imports another app's public modules (models, services, selectors,
  types and the extension points), never its pages, API, forms, tasks, back office, demo or
  private modules and names. Checked on the import graph, like the built-in contracts, and for
  names on the source.
- `model_writes`: an app reads another app's models but never writes them; a write goes through
  the owning app's services. Imports alone cannot show a write, so this one reads each module's
  source with `ast` (see `find_foreign_writes` for what it sees and what it does not).

Both take their exceptions from the contract's configuration as `"pattern: reason"` entries: an
exception without a reason is a configuration error, and one that matches nothing is reported as a
warning, so the list stays short and true.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.contract import InvalidContractOptions


def _reasoned(entries: Iterable[str] | None, field_name: str) -> dict[str, str]:
    """`["pattern: reason", ...]` -> {pattern: reason}; an entry without a reason is refused."""
    parsed: dict[str, str] = {}
    for entry in entries or ():
        pattern, _, reason = entry.partition(":")
        if not pattern.strip() or not reason.strip():
            raise InvalidContractOptions({field_name: f"{entry!r} needs a reason: 'module: why'."})
        parsed[pattern.strip()] = reason.strip()
    return parsed


def _module_matches(module: str, pattern: str) -> bool:
    """A pattern names a module and everything under it; shell wildcards (`*`) span dots."""
    return module == pattern or module.startswith(pattern + ".") or fnmatch.fnmatchcase(module, pattern)


def _first_match(module: str, patterns: Iterable[str]) -> str | None:
    return next((pattern for pattern in patterns if _module_matches(module, pattern)), None)


class _AppsContract(Contract):
    """Shared by both contracts: which top-level packages are apps (the root packages by default)."""

    apps = fields.ListField(subfield=fields.StringField(), required=False)

    def _apps(self) -> set[str]:
        return set(self.apps or self.session_options.get("root_packages") or ())  # type: ignore[arg-type]


# --- app_interfaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IllegalImport:
    importer: str
    imported: str
    segment: str  # the part of the imported module's name that makes it internal
    line_numbers: tuple[int, ...]

    def describe(self) -> str:
        lines = ", ".join(map(str, self.line_numbers))
        return f"{self.importer} -> {self.imported} (l.{lines}): `{self.segment}` is internal to its app"


def internal_segment(module: str, internal: Iterable[str]) -> str | None:
    """The first part of `module`'s name below its app that matches an internal pattern, if any."""
    for segment in module.split(".")[1:]:
        if any(fnmatch.fnmatchcase(segment, pattern) for pattern in internal):
            return segment
    return None


def _names_imported_from_apps(importer: str, apps: set[str]) -> Iterator[tuple[str, str, int]]:
    """(module, name, line) for each `from <one of apps>... import name` in `importer`'s source."""
    tree = _parsed(importer)
    if tree is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in apps:
            for alias in node.names:
                yield node.module, alias.name, node.lineno  # type: ignore[misc]


class AppInterfacesContract(_AppsContract):
    """No app imports another app's internal modules, nor its private names (`_plan`, read from the
    importer's source: the graph knows modules, not names).

    Options:
        apps:      the apps (default: the root packages).
        internal:  patterns for a module name's parts that make it internal wherever they are
                   (`views` covers `catalogue.views` and `catalogue.search.views`; `_*` private ones).
        gathered:  internal parts that the gatherers may import (`urls`, `api_urls`, `demo`).
        gatherers: "module: reason" entries, the modules that gather other apps' `gathered` parts.
        public:    "module: reason" entries, internal-looking modules that are public on purpose
                   (the shared kernel's helpers, an extension point).
    """

    type_name = "app_interfaces"

    internal = fields.ListField(subfield=fields.StringField())
    gathered = fields.ListField(subfield=fields.StringField(), required=False)
    gatherers = fields.ListField(subfield=fields.StringField(), required=False)
    public = fields.ListField(subfield=fields.StringField(), required=False)

    def validate(self) -> None:
        self._gatherers = _reasoned(self.gatherers, "gatherers")  # type: ignore[arg-type]
        self._public = _reasoned(self.public, "public")  # type: ignore[arg-type]

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        apps = self._apps()
        internal: list[str] = list(self.internal)  # type: ignore[arg-type]
        gathered = set(self.gathered or ())  # type: ignore[arg-type]
        used_public: set[str] = set()
        illegal: list[IllegalImport] = []

        def allowed(importer: str, imported: str, segment: str) -> bool:
            if segment in gathered and _first_match(importer, self._gatherers):
                return True
            public = _first_match(imported, self._public)
            if public:
                used_public.add(public)
            return public is not None

        for importer in sorted(graph.modules):
            importer_app = importer.split(".")[0]
            if importer_app not in apps:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                imported_app = imported.split(".")[0]
                if imported_app not in apps or imported_app == importer_app:
                    continue
                segment = internal_segment(imported, internal)
                if segment is None or allowed(importer, imported, segment):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                illegal.append(
                    IllegalImport(importer, imported, segment, tuple(d["line_number"] for d in details))
                )
            # The graph knows modules, not names: `from catalogue.services import _plan` is read
            # from the source.
            for module, name, line in _names_imported_from_apps(importer, apps - {importer_app}):
                imported = f"{module}.{name}"
                if imported in graph.modules or internal_segment(module, internal) is not None:
                    continue  # a module, or from an internal module: the graph's part above
                if not any(fnmatch.fnmatchcase(name, pattern) for pattern in internal):
                    continue
                if not allowed(importer, imported, name):
                    illegal.append(IllegalImport(importer, imported, name, (line,)))
        warnings = [
            f"public entry {pattern!r} is imported by no other app: remove it"
            for pattern in self._public
            if pattern not in used_public
        ]
        return ContractCheck(kept=not illegal, warnings=warnings, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for link in check.metadata["illegal"]:
            output.print_error(f"- {link.describe()}", bold=False)
            output.new_line()
        output.print(
            "Move what the other app needs into the owning app's services, selectors or types. "
            "A genuine extension point goes under `public`, with the reason."
        )
        output.new_line()


# --- model_writes -----------------------------------------------------------------------------

# Manager and queryset methods that write rows.
WRITE_METHODS = frozenset(
    {"create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "update", "delete"}
    | {"acreate", "aget_or_create", "aupdate_or_create", "abulk_create", "abulk_update", "aupdate", "adelete"}
)
# Instance methods that write its row.
INSTANCE_WRITES = frozenset({"save", "delete", "asave", "adelete"})
# Queryset methods that answer another queryset of the same model, and those that answer one row.
QUERYSET_METHODS = frozenset(
    {
        "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate",
        "alias", "distinct", "select_for_update", "only", "defer", "using", "none", "reverse",
        "complex_filter", "union", "intersection", "difference", "iterator",
    }
)  # fmt: skip
ROW_METHODS = frozenset({"get", "first", "last", "latest", "earliest", "in_bulk"})
ITERABLE_WRAPPERS = frozenset({"list", "tuple", "set", "sorted", "reversed"})
COLLECTION_HINTS = frozenset({"list", "tuple", "set", "Iterable", "Sequence", "Collection", "Iterator"})


@dataclass(frozen=True)
class ForeignWrite:
    module: str
    line: int
    model: str  # dotted: "catalogue.models.Product"
    call: str  # the writing call, arguments elided: "Product.objects.filter(...).update(...)"

    def describe(self) -> str:
        return f"{self.module}:{self.line} writes {self.model}: {self.call}"


# What a name or an expression stands for: the model class itself, a manager or queryset of it,
# one row of it, or a collection of rows; with the model's dotted name.
MODEL, QUERYSET, ROW, ROWS = "model", "queryset", "row", "rows"
Kind = tuple[str, str]


class _Scope:
    def __init__(self, parent: _Scope | None) -> None:
        self.parent = parent
        self.names: dict[str, Kind] = {}

    def lookup(self, name: str) -> Kind | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _own_nodes(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node of a scope's body, without descending into nested functions and classes."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
        else:
            # Decorators, defaults and annotations belong to the enclosing scope.
            if isinstance(node, ast.ClassDef):
                stack.extend(node.decorator_list + node.bases + [kw.value for kw in node.keywords])
            elif not isinstance(node, ast.Lambda):
                defaults = [d for d in node.args.defaults + node.args.kw_defaults if d is not None]
                stack.extend(node.decorator_list + defaults)


class _WriteFinder:
    def __init__(self, *, module: str, apps: set[str]) -> None:
        self.module = module
        self.app = module.split(".")[0]
        self.foreign_apps = apps - {self.app}
        self.models: dict[str, str] = {}  # local name -> dotted model
        self.model_modules: dict[str, str] = {}  # local name or dotted prefix -> "<app>.models"
        self.writes: list[ForeignWrite] = []

    def _is_foreign_models(self, module: str | None) -> bool:
        if not module:
            return False
        app, _, rest = module.partition(".")
        return app in self.foreign_apps and (rest == "models" or rest.startswith("models."))

    def collect_imports(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                if self._is_foreign_models(node.module):
                    for alias in node.names:
                        self.models[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                elif node.module in self.foreign_apps:  # from catalogue import models
                    for alias in node.names:
                        if alias.name == "models":
                            self.model_modules[alias.asname or alias.name] = f"{node.module}.models"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if self._is_foreign_models(alias.name):
                        self.model_modules[alias.asname or alias.name] = alias.name

    # -- what an expression is --

    def _dotted(self, expr: ast.AST) -> str | None:
        if isinstance(expr, ast.Name):
            return expr.id
        if isinstance(expr, ast.Attribute):
            base = self._dotted(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    def model_of(self, expr: ast.AST) -> str | None:
        dotted = self._dotted(expr)
        if dotted is None:
            return None
        if dotted in self.models:
            return self.models[dotted]
        prefix, _, name = dotted.rpartition(".")
        if prefix in self.model_modules and name[:1].isupper():
            return f"{self.model_modules[prefix]}.{name}"
        return None

    def kind(self, expr: ast.AST, scope: _Scope) -> Kind | None:
        model = self.model_of(expr)
        if model:
            return (MODEL, model)
        if isinstance(expr, ast.Name):
            return scope.lookup(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.kind(expr.value, scope)
            # `Product.objects`, a custom manager (`Offer.live`), `_default_manager`: not
            # `Product.DoesNotExist` or `Product.Status`.
            if (
                base
                and base[0] == MODEL
                and (expr.attr[:1].islower() or expr.attr in {"_default_manager", "_base_manager"})
            ):
                return (QUERYSET, base[1])
            return None
        if isinstance(expr, ast.Call):
            func = expr.func
            model = self.model_of(func)
            if model:  # Product(...)
                return (ROW, model)
            if isinstance(func, ast.Name) and func.id in ITERABLE_WRAPPERS and expr.args:
                inner = self.kind(expr.args[0], scope)
                if inner and inner[0] in (QUERYSET, ROWS):
                    return (ROWS, inner[1])
            if isinstance(func, ast.Attribute):
                base = self.kind(func.value, scope)
                if base and base[0] == QUERYSET:
                    if func.attr in QUERYSET_METHODS:
                        return (QUERYSET, base[1])
                    if func.attr in ROW_METHODS:
                        return (ROW, base[1])
            return None
        if isinstance(expr, ast.Subscript):
            base = self.kind(expr.value, scope)
            if base and base[0] in (QUERYSET, ROWS):
                return (QUERYSET if isinstance(expr.slice, ast.Slice) else ROW, base[1])
            return None
        if isinstance(expr, ast.IfExp):
            return self.kind(expr.body, scope) or self.kind(expr.orelse, scope)
        if isinstance(expr, ast.NamedExpr):
            return self.kind(expr.value, scope)
        return None

    def annotation_kind(self, annotation: ast.AST | None) -> Kind | None:
        """`Product`, `Product | None`, `Optional[Product]` -> a row; `QuerySet[Product]` -> a
        queryset; `list[Product]`, `Iterable[Product]`... -> rows."""
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                return self.annotation_kind(ast.parse(annotation.value, mode="eval").body)
            except SyntaxError:
                return None
        model = self.model_of(annotation)
        if model:
            return (ROW, model)
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            return self.annotation_kind(annotation.left) or self.annotation_kind(annotation.right)
        if isinstance(annotation, ast.Subscript):
            outer = (self._dotted(annotation.value) or "").rpartition(".")[2]
            inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            for element in inner:
                found = self.annotation_kind(element)
                if not found or found[0] != ROW:
                    continue
                if outer == "Optional":
                    return found
                if outer in {"QuerySet", "Manager", "BaseManager"}:
                    return (QUERYSET, found[1])
                if outer in COLLECTION_HINTS:
                    return (ROWS, found[1])
        return None

    # -- scopes --

    def _bind(self, target: ast.AST, kind: Kind | None, scope: _Scope) -> bool:
        if kind is None or not isinstance(target, ast.Name):
            return False
        bound = scope.names.get(target.id)
        # A name bound to two different things in one scope (`rows = A.objects...`, later
        # `rows = B.objects...`) keeps the greater of the two: a binding only ever moves one way,
        # so the fixed point below is reached (flipping between them never ended).
        if bound is not None and bound >= kind:
            return False
        scope.names[target.id] = kind
        return True

    def _bind_iteration(self, target: ast.AST, iterable: ast.AST, scope: _Scope) -> bool:
        kind = self.kind(iterable, scope)
        return bool(kind and kind[0] in (QUERYSET, ROWS) and self._bind(target, (ROW, kind[1]), scope))

    def _collect_bindings(self, nodes: list[ast.AST], scope: _Scope) -> None:
        # Flow-insensitive: a name bound anywhere in the scope to a model's rows is taken to hold
        # them everywhere in it. Repeat until nothing changes (`rows = qs.filter(...)` after `qs = ...`).
        changed = True
        while changed:
            changed = False
            for node in nodes:
                if isinstance(node, ast.Assign):
                    kind = self.kind(node.value, scope)
                    for target in node.targets:
                        changed |= self._bind(target, kind, scope)
                elif isinstance(node, ast.AnnAssign):
                    kind = self.annotation_kind(node.annotation)
                    if kind is None and node.value is not None:
                        kind = self.kind(node.value, scope)
                    changed |= self._bind(node.target, kind, scope)
                elif isinstance(node, ast.NamedExpr):
                    changed |= self._bind(node.target, self.kind(node.value, scope), scope)
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    changed |= self._bind_iteration(node.target, node.iter, scope)

    def _check_calls(self, nodes: list[ast.AST], scope: _Scope) -> None:
        for node in nodes:
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            kind = self.kind(node.func.value, scope)
            if kind is None:
                continue
            method = node.func.attr
            if (kind[0] == QUERYSET and method in WRITE_METHODS) or (
                kind[0] == ROW and method in INSTANCE_WRITES
            ):
                self.writes.append(ForeignWrite(self.module, node.lineno, kind[1], _call_text(node)))

    def visit_scope(self, body: list[ast.AST], scope: _Scope, arguments: ast.arguments | None = None) -> None:
        if arguments is not None:
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            every += [arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
            for arg in every:
                self._bind(ast.Name(id=arg.arg), self.annotation_kind(arg.annotation), scope)
        nodes = list(_own_nodes(body))
        self._collect_bindings(nodes, scope)
        self._check_calls(nodes, scope)
        for node in nodes:
            # A method does not see its class's names, so both get the enclosing scope as parent.
            if isinstance(node, ast.ClassDef):
                self.visit_class(node, scope)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.visit_scope(node.body, _Scope(scope), node.args)
            elif isinstance(node, ast.Lambda):
                self.visit_scope([node.body], _Scope(scope), node.args)

    def visit_class(self, node: ast.ClassDef, enclosing: _Scope) -> None:
        for child in node.body:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.visit_scope(child.body, _Scope(enclosing), child.args)
            elif isinstance(child, ast.ClassDef):
                self.visit_class(child, enclosing)
            else:
                self.visit_scope([child], _Scope(enclosing))


def _call_text(call: ast.Call) -> str:
    """`Product.objects.filter(pk=1).update(name=n)` -> "Product.objects.filter(...).update(...)"."""
    return ast.unparse(_ElideArguments().visit(ast.parse(ast.unparse(call), mode="eval")))


class _ElideArguments(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        elided = [ast.Name(id="...")] if node.args or node.keywords else []
        return ast.Call(func=node.func, args=elided, keywords=[])


def find_foreign_writes(source: str, *, module: str, apps: Iterable[str]) -> list[ForeignWrite]:
    """The calls in `source` (the module `module`) that write a model of another of `apps`.

    It sees a model imported from another app's `models` (`from catalogue.models import Product`,
    `from catalogue import models`, `import catalogue.models`), and, within a function, the managers,
    querysets and rows built from it: `Product.objects...create/update/delete/bulk_*(...)`,
    `Product(...).save()`, `row.save()`/`row.delete()` for a row got from such a queryset
    (`get`, `first`, indexing, a `for` loop) or a parameter annotated with the model.

    It does not see: a queryset or row handed over by a function call (another app's selector, a
    related manager such as `trust.memberships`), attributes (`self.product.save()`), related
    managers' `add`/`remove`/`set`/`clear`, `apps.get_model`, raw SQL, or a model form or serializer
    of another app's model being saved. Names are resolved per function without following the
    order of statements.
    """
    return _foreign_writes_in(ast.parse(source), module=module, apps=apps)


def _foreign_writes_in(tree: ast.Module, *, module: str, apps: Iterable[str]) -> list[ForeignWrite]:
    finder = _WriteFinder(module=module, apps=set(apps))
    finder.collect_imports(tree)
    if finder.models or finder.model_modules:
        finder.visit_scope(tree.body, _Scope(None))  # type: ignore[arg-type]
    return sorted(finder.writes, key=lambda write: write.line)


@functools.cache
def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # a top-level package: nothing is imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def module_path(module: str) -> Path | None:
    """The source file of `module`, found from its top-level package without importing it."""
    package, *rest = module.split(".")
    root = _package_dir(package)
    if root is None:
        return None
    base = root.joinpath(*rest)
    for candidate in ([base.with_name(base.name + ".py")] if rest else []) + [base / "__init__.py"]:
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _source(module: str) -> str | None:
    path = module_path(module)
    return path.read_text(encoding="utf-8") if path is not None else None


@functools.cache
def _parsed(module: str) -> ast.Module | None:
    """A module's syntax tree, read once however many contracts ask (a module that does not parse
    is import-linter's to report, when it builds the graph)."""
    source = _source(module)
    return ast.parse(source) if source is not None else None


def clear_caches() -> None:
    """Forget the packages' places and sources (for tests that make packages of their own)."""
    _package_dir.cache_clear()
    _source.cache_clear()
    _parsed.cache_clear()


class ModelWritesContract(_AppsContract):
    """No app writes another app's models: it calls the owning app's services.

    Options:
        apps:  the apps (default: the root packages).
        allow: "module: reason" entries, modules that may write other apps' models.
    """

    type_name = "model_writes"

    allow = fields.ListField(subfield=fields.StringField(), required=False)

    def validate(self) -> None:
        self._allow = _reasoned(self.allow, "allow")  # type: ignore[arg-type]

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        apps = self._apps()
        matched: set[str] = set()
        writes: list[ForeignWrite] = []
        for module in sorted(graph.modules):
            if module.split(".")[0] not in apps:
                continue
            allowed = _first_match(module, self._allow)
            if allowed:
                matched.add(allowed)
                continue
            tree = _parsed(module)
            if tree is not None:
                output.verbose_print(verbose, f"Reading {module}")
                writes.extend(_foreign_writes_in(tree, module=module, apps=apps))
        warnings = [
            f"allow entry {pattern!r} matches no module: remove it"
            for pattern in self._allow
            if pattern not in matched
        ]
        return ContractCheck(kept=not writes, warnings=warnings, metadata={"writes": writes})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for write in check.metadata["writes"]:
            output.print_error(f"- {write.describe()}", bold=False)
            output.new_line()
        output.print(
            "Read another app's models freely; write them through a service of the app that owns "
            "them (its services.py), or list the module under `allow` with the reason."
        )
        output.new_line()
