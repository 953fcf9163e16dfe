"""What a typed query becomes before any engine sees it, and the read entry points around engines."""

from __future__ import annotations

from unittest import mock

import pytest

from search import analysis, selectors
from search.highlight import highlight
from search.types import InvalidSearch, SearchQuery, SearchUnavailable


def test_words_drop_punctuation_and_lower_case():
    assert analysis.words("Anti-embolism, 20ml (TED)!") == ["anti", "embolism", "20ml", "ted"]


def test_a_query_is_cut_to_a_bounded_length_without_control_characters():
    assert analysis.normalise_query("glo\x00ves  \n box") == "glo ves box"
    assert len(analysis.normalise_query("x" * 10_000)) == analysis.MAX_QUERY_CHARS


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("5012345678905", "05012345678905"),
        ("12345670", "00000012345670"),
        (" npc 123 ", "NPC123"),
        ("MDL-TED-M", "MDL-TED-M"),
    ],
)
def test_identifiers_are_normalised(typed, code):
    assert analysis.code_candidates(typed) == [code]


@pytest.mark.parametrize("typed", ["wheelchair", "transit wheelchair", "", "!!!", "x" * 100])
def test_plain_words_are_not_identifiers(typed):
    assert analysis.code_candidates(typed) == []


def test_synonym_groups_match_phrases_longest_first():
    table = analysis.parse_synonyms("ted, anti embolism, dvt stockings\n# comment\nwheelchair, wheel chair\n")
    assert table.expand(["ted", "stockings"]) == [
        [("ted",), ("anti", "embolism"), ("dvt", "stockings")],
        [("stockings",)],
    ]
    assert table.expand(["wheel", "chair", "seat"]) == [[("wheelchair",), ("wheel", "chair")], [("seat",)]]


def test_the_shared_synonym_file_knows_nhs_terms():
    table = analysis.synonyms()
    for phrase in [("ted",), ("zimmer",), ("commode",), ("hoist",), ("incontinence",), ("self", "propelled")]:
        assert phrase in table.groups


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("wheelchiar", "wheelchair", 1),
        ("comode", "commode", 1),
        ("glove", "glove", 0),
        ("gloves", "galoshes", 3),
    ],
)
def test_edit_distance_counts_a_swap_as_one(a, b, distance):
    assert analysis.damerau_levenshtein(a, b) == min(distance, 4)


def test_corrections_prefer_the_closest_then_the_most_common_word():
    assert analysis.best_correction("stokings", [("stockings", 10), ("stocking", 50)]) == "stockings"
    assert analysis.best_correction("bant", [("bank", 5), ("band", 50)]) == "band"
    assert analysis.best_correction("bax", [("box", 100)]) is None  # too short to correct
    assert analysis.best_correction("qzxwvk", [("quick", 5)]) is None


def test_highlight_marks_words_and_escapes_the_rest():
    assert highlight("<b>Nitrile</b> gloves", ["glove"]) == "&lt;b&gt;Nitrile&lt;/b&gt; <mark>gloves</mark>"


@pytest.mark.django_db
def test_lazy_results_ask_the_engine_for_the_slice_used(catalogue):
    results = selectors.search_lazy(SearchQuery(text="wheelchair"))
    assert results.count() == 2
    assert len(results[0:1].hits) == 1
    assert results[1:2].hits[0].object_id != results[0:1].hits[0].object_id


@pytest.mark.django_db
def test_an_engine_failure_becomes_search_unavailable(catalogue):
    broken = mock.Mock()
    broken.search.side_effect = OSError("connection refused")
    with mock.patch("search.selectors.get_backend", return_value=broken), pytest.raises(SearchUnavailable):
        selectors.search(SearchQuery(text="wheelchair"))


@pytest.mark.django_db
def test_autocomplete_answers_nothing_rather_than_failing(catalogue):
    broken = mock.Mock()
    broken.autocomplete.side_effect = OSError("connection refused")
    with mock.patch("search.selectors.get_backend", return_value=broken):
        assert selectors.autocomplete("wheel") == []


def test_an_unknown_document_type_is_refused():
    with pytest.raises(InvalidSearch):
        selectors.search(SearchQuery(text="x", object_type="gizmo"))


def test_a_quantity_glued_to_its_unit_is_searched_as_catalogues_write_it():
    assert analysis.normalise_query("20ml syringe luer lock") == "20 ml syringe luer lock"
    assert analysis.normalise_query("2.5MM cannula 14fr") == "2.5 MM cannula 14 fr"
    # Codes and words that merely contain digits are left alone.
    assert analysis.normalise_query("MDL-TED-M SKU20ML 5012345678905") == "MDL-TED-M SKU20ML 5012345678905"
