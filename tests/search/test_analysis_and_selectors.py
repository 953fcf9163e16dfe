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


def test_groups_sharing_a_term_are_one_group_with_their_sources():
    table = analysis.parse_synonyms(
        "# source: list A\n# (continued)\nsanitiser, hand rub\n\n# source: list B\nalcohol gel, hand rub\n"
    )
    group = table.groups[("sanitiser",)]
    assert group == (("sanitiser",), ("hand", "rub"), ("alcohol", "gel"))
    assert table.groups[("alcohol", "gel")] == group
    assert table.lines == ("sanitiser, hand rub, alcohol gel",)
    assert table.sources["sanitiser, hand rub, alcohol gel"] == "list A (continued); list B"


def test_every_synonym_group_says_where_it_comes_from():
    files = {f.name for f in analysis.synonym_files()}
    assert {"core.txt", "nhs_supply_chain.txt", "clinical_shorthand.txt"} <= files
    table = analysis.synonyms()
    assert len(table.lines) >= 90
    assert [line for line in table.lines if not table.sources[line]] == []


def test_synonym_terms_carry_no_english_stop_words():
    # PostgreSQL drops stop words ("in", "up"), SQLite does not: a term made of them would match
    # differently on the two backends.
    stop = {"a", "an", "and", "by", "for", "in", "of", "on", "or", "out", "the", "to", "up", "with"}
    assert [p for p in analysis.synonyms().groups if stop & set(p)] == []


def test_the_shared_synonym_file_knows_nhs_terms():
    table = analysis.synonyms()
    for phrase in [
        ("ted",),
        ("zimmer",),
        ("commode",),
        ("hoist",),
        ("incontinence",),
        ("self", "propelled"),
        ("venflon",),
        ("electric",),
        ("iv",),
        ("nitrile",),
        ("latex",),
        ("foley",),
    ]:
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


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("10x10cm", "100x100mm"),
        ("10 x 10cm", "100x100mm"),
        ("10 cm x 10 cm", "100x100mm"),
        ("7.5cmx7.5cm", "75x75mm"),
        ("7.5 x 5 cm", "50x75mm"),  # numbers of a size are sorted
        ("7.5cm", "75mm"),
        ("75mm", "75mm"),
        ('18"', "18in"),
        ("18 inch", "18in"),
        ("18-inch", "18in"),
        ("20 cc", "20ml"),
        ("1 litre", "1000ml"),
        ("14 Fr", "14ch"),
        ("0.8mm", "0p8mm"),
        ("10x10", "10x10"),  # no unit: cm, mm or inches, see size_alternatives
        ("size 7.5", "size 7p5"),  # one word for every tokenizer
        ("catheter Ch 12", "catheter 12ch"),
    ],
)
def test_a_size_becomes_one_canonical_word(typed, canonical):
    assert analysis.normalise_query(typed) == canonical


def test_documents_keep_their_words_and_gain_the_canonical_ones():
    assert (
        analysis.index_text("Foam dressing, 10 cm x 10 cm") == "Foam dressing, 10 cm x 10 cm 100x100mm 100mm"
    )
    assert analysis.index_text("Syringe 20ml") == "Syringe 20ml 20ml"
    assert analysis.index_text("Pack of 100") == "Pack of 100"


def test_a_size_without_a_unit_may_be_in_cm_mm_or_inches():
    assert analysis.size_alternatives("10x10") == ["100x100mm", "10x10mm", "10x10in"]
    assert analysis.size_alternatives("10") == []
    groups = analysis.analyse("foam 10x10").groups
    assert groups[1] == (("10x10",), ("100x100mm",), ("10x10mm",), ("10x10in",))


@pytest.mark.parametrize(
    "text",
    ["MDL-TED-M SKU20ML 5012345678905", "10 in a box", "pack of 100", "x-ray gown", "box x 100"],
)
def test_codes_and_plain_numbers_are_not_sizes(text):
    assert analysis.normalise_query(text) == text


def test_identifiers_are_read_as_typed_not_as_sizes():
    assert analysis.code_candidates("GL-7.5CM") == ["GL-7.5CM"]


def test_stop_words_are_not_searched_unless_nothing_else_is_typed():
    assert analysis.query_words("stool for the shower") == ["stool", "shower"]
    assert analysis.query_words("the") == ["the"]


def test_a_corrected_query_is_said_in_the_buyers_words():
    analysed = analysis.analyse("Foam dresing 10 x 10cm", {"dresing": "dressing"})
    assert analysed.corrected_text == "foam dressing 10 x 10cm"
