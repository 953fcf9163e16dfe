"""Run the judged queries against the configured search backend and score them.

Each query is answered as the search box answers it: an exact identifier (GTIN, NPC, SKU, part
number) opens its product; anything else is a search, of which the first five results count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

QUERIES_FILE = Path(__file__).with_name("queries.yaml")
TOP = 5


@dataclass(frozen=True)
class Judged:
    """`expected`: products that must all be in the top five. `family`: name prefixes for a broad
    query ("stockings") that any member of answers; one judged item, found when any top-five name
    starts with one of them."""

    text: str
    kind: str
    expected: tuple[str, ...] = ()
    family: tuple[str, ...] = ()

    @property
    def judged(self) -> int:
        return len(self.expected) + (1 if self.family else 0)


@dataclass(frozen=True)
class Outcome:
    query: Judged
    top: tuple[str, ...]

    def relevant(self, name: str) -> bool:
        return name in self.query.expected or name.startswith(self.query.family or ("\0",))

    @property
    def found(self) -> tuple[str, ...]:
        found = tuple(name for name in self.query.expected if name in self.top)
        if self.query.family and any(name.startswith(self.query.family) for name in self.top):
            found += ("family:" + " | ".join(self.query.family),)
        return found

    @property
    def missing(self) -> tuple[str, ...]:
        missing = tuple(name for name in self.query.expected if name not in self.top)
        if self.query.family and not any(name.startswith(self.query.family) for name in self.top):
            missing += ("any of: " + " | ".join(self.query.family),)
        return missing

    @property
    def recall(self) -> float:
        return len(self.found) / self.query.judged

    @property
    def reciprocal_rank(self) -> float:
        ranks = [i for i, name in enumerate(self.top, start=1) if self.relevant(name)]
        return 1 / ranks[0] if ranks else 0.0


def load_queries(path: Path = QUERIES_FILE) -> list[Judged]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for kind, entries in data.items():
        for entry in entries:
            expected, family = entry.get("expect", []), entry.get("family", [])
            expected = expected if isinstance(expected, list) else [expected]
            family = family if isinstance(family, list) else [family]
            assert expected or family, f"{entry['q']!r} judges nothing"
            out.append(
                Judged(text=str(entry["q"]), kind=kind, expected=tuple(expected), family=tuple(family))
            )
    return out


def answer(text: str, names: dict[int, str]) -> tuple[str, ...]:
    from search import selectors
    from search.types import SearchQuery

    match = selectors.find_identifier(text)
    if match is not None:
        return (names[match.object_id],)
    results = selectors.search(SearchQuery(text=text, limit=TOP, with_facets=False))
    return tuple(names.get(i, f"#{i}") for i in results.ids)


def run(queries: list[Judged], ids: dict[str, int]) -> list[Outcome]:
    names = {pk: name for name, pk in ids.items()}
    unknown = sorted({n for q in queries for n in q.expected if n not in ids})
    unknown += sorted({f for q in queries for f in q.family if not any(n.startswith(f) for n in ids)})
    assert not unknown, f"judged products missing from the catalogue: {unknown}"
    return [Outcome(query=q, top=answer(q.text, names)) for q in queries]


def recall(outcomes: list[Outcome]) -> float:
    """Top-5 recall: the share of judged products found in the first five, over every query."""
    return sum(len(o.found) for o in outcomes) / sum(o.query.judged for o in outcomes)


def mrr(outcomes: list[Outcome]) -> float:
    return sum(o.reciprocal_rank for o in outcomes) / len(outcomes)


def failing(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.recall < 1]
