"""The contract every search backend passes (see the capability list in search/backends/base.py).

A test class for a backend inherits `SearchBackendContract` and provides a `backend` fixture. The
documents are the engine's own dataclasses, so the contract does not depend on the catalogue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import pytest

from search.backends.base import SearchBackend
from search.types import (
    Document,
    DocumentType,
    FacetField,
    InvalidSearch,
    SearchQuery,
    SortOrder,
    TextField,
    Weight,
)

TYPE = "contract-item"

DOCUMENT_TYPE = DocumentType(
    name=TYPE,
    text_fields=(
        TextField("name", Weight.A),
        TextField("codes", Weight.B),
        TextField("category", Weight.C),
        TextField("description", Weight.D),
    ),
    facet_fields=(
        FacetField("category", "Category"),
        FacetField("supplier", "Supplier"),
        FacetField("stock", "Stock", {"in_stock": "In stock"}),
        FacetField("patient_eligible", "Patient eligible", {"yes": "Patient eligible"}),
    ),
    load=lambda ids: [],
    versions=lambda: [],
)


def doc(
    object_id: int,
    name: str,
    *,
    description: str = "",
    category: str = "1",
    suppliers: tuple[str, ...] = ("1",),
    price: str | None = "1.00",
    codes: tuple[str, ...] = (),
    stock: tuple[str, ...] = ("in_stock",),
    patient: bool = False,
) -> Document:
    facets = {"category": [category], "supplier": list(suppliers), "stock": list(stock)}
    if patient:
        facets["patient_eligible"] = ["yes"]
    return Document(
        object_type=TYPE,
        object_id=object_id,
        title=name,
        text={
            "name": name,
            "codes": " ".join(codes),
            "category": f"Category {category}",
            "description": description,
        },
        codes=codes,
        facets=facets,
        price=Decimal(price) if price is not None else None,
        version=f"v{object_id}",
    )


CORPUS = [
    doc(
        1,
        "Anti-embolism stocking, thigh length, medium",
        description="Graduated compression hosiery.",
        category="10",
        suppliers=("1", "2"),
        price="2.50",
        codes=("05012345678905", "NPC1234", "MPN-0001", "SKU-A1"),
    ),
    doc(2, "Nitrile examination glove, medium, box of 100", category="20", suppliers=("2",), price="0.05"),
    doc(
        3,
        "Self-propelled wheelchair, 18 inch seat",
        category="30",
        suppliers=("3",),
        price="250",
        patient=True,
    ),
    doc(
        4,
        "Transit wheelchair, lightweight",
        category="30",
        suppliers=("1",),
        price="180",
        stock=("low_stock",),
    ),
    doc(5, "Walking frame, height adjustable", category="30", suppliers=("3",), price="35"),
    doc(
        6,
        "Syringe 20ml luer lock, single use",
        category="40",
        suppliers=("2",),
        price="0.12",
        codes=("SKU-B7",),
    ),
    doc(7, "Incontinence pad, extra absorbent", category="50", suppliers=("4",), price="0.30"),
    doc(
        8,
        "Storage box with lid",
        description="Keeps gloves and aprons tidy.",
        category="60",
        suppliers=("4",),
    ),
    doc(9, "Commode chair with padded seat", category="30", suppliers=("3",), price="95", patient=True),
    doc(10, "Foam dressing, silicone border, 10 cm x 10 cm", category="80", suppliers=("7",)),
    doc(11, "Foam dressing, silicone border, 12.5 cm x 12.5 cm", category="80", suppliers=("7",)),
    doc(12, "Film dressing, transparent, 7.5 cm x 7.5 cm", category="80", suppliers=("7",)),
    doc(13, 'Pressure relief seat cushion, 18" x 16"', category="80", suppliers=("7",)),
    doc(14, "Foam dressing, non-adhesive, 100mm x 100mm", category="80", suppliers=("7",)),
    doc(15, "Electric profiling bed, four section", category="80", suppliers=("7",)),
    doc(16, "IV cannula, 20G, pink", category="80", suppliers=("7",)),
    *[
        doc(100 + n, f"Gauze swab, woven, 8 ply, pack {n}", category="70", suppliers=("5",))
        for n in range(25)
    ],
]


# Words far apart in spelling (no typo correction or fuzziness joins two of them), in no synonym
# group and not stop words: a document matches a query exactly when it holds every word typed.
RANDOM_WORDS = ("apple", "river", "cobalt", "meadow", "lantern", "thimble", "walrus", "orchid")
COMMON_WORD = "harbour"
STOCK_STATES = ("in_stock", "low_stock", "out_of_stock")


@dataclass(frozen=True)
class RandomQuery:
    words: tuple[str, ...]
    filters: dict[str, list[str]]
    price_min: Decimal | None
    price_max: Decimal | None

    def search(self, backend: SearchBackend):
        return backend.search(
            DOCUMENT_TYPE,
            SearchQuery(
                text=" ".join(self.words),
                object_type=TYPE,
                filters=self.filters,
                price_min=self.price_min,
                price_max=self.price_max,
            ),
        )


def random_corpus(
    rng: random.Random, size: int, *, common: float = 0.0, first_id: int = 10_000
) -> list[Document]:
    """`size` documents of 1-4 random words (and COMMON_WORD with probability `common`), a category of
    12, 1-4 suppliers of 300, one or two stock states, some patient eligible, some without a price."""
    documents = []
    for n in range(size):
        words = rng.sample(RANDOM_WORDS, rng.randint(1, 4))
        if rng.random() < common:
            words.append(COMMON_WORD)
        documents.append(
            doc(
                first_id + n,
                " ".join(words).capitalize(),
                description="Made up for testing.",
                category=str(rng.randint(1, 12)),
                suppliers=tuple(str(s) for s in rng.sample(range(1, 301), rng.randint(1, 4))),
                price=None if rng.random() < 0.05 else f"{rng.randint(1, 50_000) / 100:.2f}",
                stock=tuple(rng.sample(STOCK_STATES, rng.randint(1, 2))),
                patient=rng.random() < 0.3,
            )
        )
    return documents


def random_query(rng: random.Random, documents: list[Document]) -> RandomQuery:
    """0-2 words (the common one often), 0-3 facets filtered by 1-3 values seen in the corpus, and
    sometimes a price range."""
    words = tuple(rng.sample(RANDOM_WORDS, rng.randint(0, 2)))
    if rng.random() < 0.5:
        words = (COMMON_WORD, *words[:1])
    filters: dict[str, list[str]] = {}
    for facet in rng.sample(DOCUMENT_TYPE.facet_fields, rng.randint(0, 3)):
        seen = sorted({v for d in documents for v in d.facets.get(facet.name, ())})
        filters[facet.name] = rng.sample(seen, min(len(seen), rng.randint(1, 3)))
    price_min = price_max = None
    if rng.random() < 0.25:
        price_min = Decimal(rng.randint(0, 200))
        price_max = price_min + Decimal(rng.randint(1, 300))
    return RandomQuery(words, filters, price_min, price_max)


def brute_force(documents: list[Document], query: RandomQuery) -> tuple[int, dict[str, dict[str, int]]]:
    """(total, {facet: {value: count}}) by looking at every document."""
    matches = []
    for d in documents:
        words = set(d.title.lower().split())
        if not set(query.words) <= words:
            continue
        if any(not set(values) & set(d.facets.get(name, ())) for name, values in query.filters.items()):
            continue
        if query.price_min is not None and (d.price is None or d.price < query.price_min):
            continue
        if query.price_max is not None and (d.price is None or d.price > query.price_max):
            continue
        matches.append(d)
    counts: dict[str, dict[str, int]] = {f.name: {} for f in DOCUMENT_TYPE.facet_fields}
    for d in matches:
        for name, values in d.facets.items():
            for value in values:
                counts[name][value] = counts[name].get(value, 0) + 1
    return len(matches), counts


def assert_exact_facets(backend: SearchBackend, documents: list[Document], query: RandomQuery) -> int:
    """The backend's total and every facet count equal the brute-force count; returns the total."""
    results = query.search(backend)
    total, counts = brute_force(documents, query)
    assert results.total == total, query
    got = {name: {f.value: f.count for f in values} for name, values in results.facets.items()}
    assert got == counts, query
    return total


def ids(results) -> list[int]:
    return [hit.object_id for hit in results.hits]


def search(backend: SearchBackend, text: str = "", **kwargs):
    return backend.search(DOCUMENT_TYPE, SearchQuery(text=text, object_type=TYPE, **kwargs))


class SearchBackendContract:
    """Inherit and provide a `backend` fixture returning an empty, ready SearchBackend."""

    @pytest.fixture
    def indexed(self, backend: SearchBackend) -> SearchBackend:
        assert backend.index(DOCUMENT_TYPE, CORPUS) == len(CORPUS)
        return backend

    # Ranking -----------------------------------------------------------------------------------
    def test_a_word_in_the_name_outranks_the_same_word_in_a_description(self, indexed):
        results = search(indexed, "gloves")
        assert ids(results)[0] == 2
        assert 8 in ids(results)

    def test_every_word_must_match(self, indexed):
        assert ids(search(indexed, "transit wheelchair")) == [4]

    def test_identical_scores_favour_the_closest_match_not_the_oldest_id(self, backend):
        # Both titles carry "gauze" and "swab" once and both documents hold the same number of words
        # (the short one's description pads it), so the engines score them the same. The shortest
        # title, the closest match to what was typed, comes first; not the lower id.
        long_title = "Gauze swab, non-woven, sterile, 4 ply, 7.5 cm x 7.5 cm, pack of 5"
        padding = "Cotton fibres for cleaning around wounds and grazes, sold in single packs of ten each"
        backend.index(DOCUMENT_TYPE, [doc(201, long_title), doc(202, "Gauze swab", description=padding)])
        assert ids(search(backend, "gauze swab"))[:2] == [202, 201]

    def test_browsing_without_words_lists_titles_a_to_z(self, indexed):
        assert ids(search(indexed, "", filters={"category": ["30"]})) == [9, 3, 4, 5]

    # Synonyms ----------------------------------------------------------------------------------
    def test_ted_finds_anti_embolism_stockings(self, indexed):
        assert ids(search(indexed, "TED stockings")) == [1]

    def test_zimmer_finds_a_walking_frame(self, indexed):
        assert ids(search(indexed, "zimmer")) == [5]

    def test_continence_pads_find_incontinence_pads(self, indexed):
        assert ids(search(indexed, "continence pads")) == [7]

    @pytest.mark.parametrize(
        ("typed", "found"),
        [
            ("powered bed", 15),
            ("motorised hospital bed", 15),
            ("venflon 20g", 16),
            ("intravenous cannula 20 gauge", 16),
            ("cannulae", 16),
        ],
    )
    def test_names_from_the_reviewed_synonym_files(self, indexed, typed, found):
        assert ids(search(indexed, typed)) == [found]

    # Sizes ------------------------------------------------------------------------------------
    @pytest.mark.parametrize(
        "typed",
        [
            "foam dressing 10x10",
            "10 x 10cm foam dressing",
            "foam dressing 10x10cm",
            "foam 10 cm x 10 cm",
            "100mm x 100mm foam",
            "100 x 100 mm foam dressing",
            "foam 10cm",
        ],
    )
    def test_a_size_is_found_however_it_is_written(self, indexed, typed):
        assert sorted(ids(search(indexed, typed))) == [10, 14]

    @pytest.mark.parametrize("typed", ["7.5cm film dressing", "75mm dressing", "7.5 x 7.5 film"])
    def test_a_decimal_size_is_found_in_cm_or_mm(self, indexed, typed):
        assert ids(search(indexed, typed)) == [12]

    @pytest.mark.parametrize(
        "typed", ['18" cushion', "18 inch cushion", "18in cushion", "16 x 18 inch cushion"]
    )
    def test_inches_are_found_written_with_a_quote_or_a_word(self, indexed, typed):
        assert ids(search(indexed, typed)) == [13]

    def test_a_quantity_is_found_glued_to_its_unit_or_not(self, indexed):
        assert ids(search(indexed, "20 ml syringe")) == [6]
        assert ids(search(indexed, "syringe 20cc")) == [6]
        assert search(indexed, "syringe 10ml").total == 0

    # Typos -------------------------------------------------------------------------------------
    def test_a_transposed_letter_is_corrected(self, indexed):
        results = search(indexed, "wheelchiar")
        assert sorted(ids(results)) == [3, 4]
        assert results.corrected_text == "wheelchair"

    def test_a_missing_letter_is_corrected(self, indexed):
        results = search(indexed, "comode")
        assert ids(results) == [9]

    def test_a_correct_word_is_not_corrected(self, indexed):
        assert search(indexed, "wheelchair").corrected_text is None

    def test_nonsense_matches_nothing(self, indexed):
        results = search(indexed, "qzxwvk")
        assert results.total == 0
        assert results.hits == []

    # Identifiers -------------------------------------------------------------------------------
    @pytest.mark.parametrize(
        "typed", ["5012345678905", "05012345678905", "npc1234", "MPN-0001", "SKU-A1", " sku-a1 "]
    )
    def test_an_exact_identifier_names_its_document(self, indexed, typed):
        match = indexed.find_identifier(TYPE, typed)
        assert match is not None
        assert match.object_id == 1

    def test_an_unknown_identifier_names_nothing(self, indexed):
        assert indexed.find_identifier(TYPE, "5099999999999") is None
        assert indexed.find_identifier(TYPE, "wheelchair") is None

    # Facets ------------------------------------------------------------------------------------
    def test_facets_count_every_match_not_only_the_page(self, indexed):
        results = search(indexed, "gauze swab", limit=5)
        assert results.total == 25
        assert {(f.value, f.count) for f in results.facets["supplier"]} == {("5", 25)}

    def test_facets_count_each_value_once_per_document(self, indexed):
        results = search(indexed, "wheelchair")
        assert {(f.value, f.count) for f in results.facets["supplier"]} == {("1", 1), ("3", 1)}
        assert {(f.value, f.count) for f in results.facets["category"]} == {("30", 2)}
        assert {(f.value, f.count) for f in results.facets["patient_eligible"]} == {("yes", 1)}
        stock = {f.value: f for f in results.facets["stock"]}
        assert stock["in_stock"].count == 1
        assert stock["in_stock"].label == "In stock"

    def test_facet_counts_are_exact_for_random_queries_and_filters(self, backend):
        rng = random.Random(11)
        documents = random_corpus(rng, 400, common=0.8)
        backend.index(DOCUMENT_TYPE, documents)
        totals = [assert_exact_facets(backend, documents, random_query(rng, documents)) for _ in range(40)]
        # The loop saw broad and narrow answers, and empty ones.
        assert max(totals) > 250
        assert 0 in totals

    # Filters -----------------------------------------------------------------------------------
    def test_a_filter_keeps_matching_documents_only(self, indexed):
        assert ids(search(indexed, "wheelchair", filters={"supplier": ["1"]})) == [4]

    def test_values_of_one_filter_are_alternatives(self, indexed):
        assert sorted(ids(search(indexed, "wheelchair", filters={"supplier": ["1", "3"]}))) == [3, 4]

    def test_different_filters_all_apply(self, indexed):
        results = search(indexed, "", filters={"category": ["30"], "patient_eligible": ["yes"]})
        assert sorted(ids(results)) == [3, 9]

    def test_price_range(self, indexed):
        results = search(
            indexed, "", filters={"category": ["30"]}, price_min=Decimal("50"), price_max=Decimal("200")
        )
        assert sorted(ids(results)) == [4, 9]

    def test_an_unknown_filter_value_matches_nothing(self, indexed):
        assert search(indexed, "wheelchair", filters={"supplier": ["no-such-supplier"]}).total == 0

    def test_an_undeclared_filter_is_refused(self, indexed):
        with pytest.raises(InvalidSearch) as error:
            search(indexed, "wheelchair", filters={"colour": ["red"]})
        assert error.value.field == "colour"

    # Sorting and pagination ------------------------------------------------------------------------
    def test_sort_by_price(self, indexed):
        results = search(indexed, "", filters={"category": ["30"]}, sort=SortOrder.PRICE_LOW)
        assert ids(results) == [5, 9, 4, 3]
        results = search(indexed, "", filters={"category": ["30"]}, sort=SortOrder.PRICE_HIGH)
        assert ids(results) == [3, 4, 9, 5]

    def test_pages_are_stable_slices_of_all_matches(self, indexed):
        pages = [search(indexed, "gauze", offset=offset, limit=10) for offset in (0, 10, 20)]
        seen = [i for page in pages for i in ids(page)]
        assert [len(page.hits) for page in pages] == [10, 10, 5]
        assert sorted(seen) == [100 + n for n in range(25)]
        assert all(page.total == 25 for page in pages)

    def test_a_page_beyond_the_end_is_empty(self, indexed):
        results = search(indexed, "gauze", offset=40, limit=10)
        assert results.hits == []
        assert results.total == 25

    # Deletion and updates ----------------------------------------------------------------------
    def test_a_deleted_document_is_gone_from_results_facets_and_identifiers(self, indexed):
        assert indexed.delete(TYPE, [1, 999]) == 1
        results = search(indexed, "stocking")
        assert results.total == 0
        assert indexed.find_identifier(TYPE, "NPC1234") is None
        assert all(f.value != "2" or f.count == 2 for f in search(indexed, "").facets["supplier"])

    def test_indexing_again_replaces_the_document(self, indexed):
        indexed.index(DOCUMENT_TYPE, [doc(4, "Transit wheelchair, attendant propelled", suppliers=("6",))])
        results = search(indexed, "transit")
        assert ids(results) == [4]
        assert [f.value for f in results.facets["supplier"]] == ["6"]
        assert search(indexed, "lightweight").total == 0

    def test_indexed_versions_report_what_is_in_the_index(self, indexed):
        versions = indexed.indexed_versions(TYPE)
        assert versions[3] == "v3"
        assert len(versions) == len(CORPUS)

    # Autocomplete --------------------------------------------------------------------------------
    def test_autocomplete_completes_the_last_word(self, indexed):
        titles = [s.title for s in indexed.autocomplete(DOCUMENT_TYPE, "wheelc")]
        assert sorted(titles) == [
            "Self-propelled wheelchair, 18 inch seat",
            "Transit wheelchair, lightweight",
        ]

    def test_autocomplete_uses_the_earlier_words(self, indexed):
        assert [s.object_id for s in indexed.autocomplete(DOCUMENT_TYPE, "transit whe")] == [4]

    @pytest.mark.parametrize(("typed", "found"), [("ted", 1), ("TED", 1), ("zimm", 5), ("venf", 16)])
    def test_autocomplete_knows_abbreviations_and_synonyms(self, indexed, typed, found):
        assert found in [s.object_id for s in indexed.autocomplete(DOCUMENT_TYPE, typed)]

    def test_autocomplete_of_an_abbreviation_suggests_what_it_stands_for_first(self, indexed):
        assert [s.object_id for s in indexed.autocomplete(DOCUMENT_TYPE, "ted")] == [1]

    # Bad input ----------------------------------------------------------------------------------
    @pytest.mark.parametrize(
        "text",
        [
            "",
            "   ",
            "!!! ??? ...",
            "x" * 10_000,
            "glove " * 2_000,
            "'; DROP TABLE search_searchdocument; --",
            'glove AND (box OR "',
            "*:* OR name:glove^10 ~2 \\",
            "NOT -glove +box",
            "%_%",
            "NEAR(glove box) {a b}: c*",
            "\x00glove",
        ],
    )
    def test_bad_input_answers_normally(self, indexed, text):
        results = search(indexed, text)
        assert results.total >= 0
        assert len(results.hits) <= 20

    def test_bad_input_for_autocomplete_and_identifiers(self, indexed):
        for text in ["", "!!!", "x" * 10_000, '" OR 1=1 --', "*"]:
            assert isinstance(indexed.autocomplete(DOCUMENT_TYPE, text), list)
            assert indexed.find_identifier(TYPE, text) is None

    def test_health_reports_the_engine(self, indexed):
        assert indexed.health()["backend"]
