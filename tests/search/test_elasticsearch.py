"""Elasticsearch: the generated index definition and requests (no cluster needed), and the contract
suite against a live cluster when ELASTICSEARCH_URL is set.

No Elasticsearch server can run on the machines this was built on, so the contract class is skipped
there with the reason; CI or a developer with a cluster sets ELASTICSEARCH_URL to run it.
"""

from __future__ import annotations

import json
import os
import uuid
from decimal import Decimal
from unittest import mock

import pytest

from search import analysis
from search.backends import elasticsearch as es
from search.types import SearchQuery, SearchUnavailable, SortOrder
from tests.contracts.search import DOCUMENT_TYPE, TYPE, SearchBackendContract, doc

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL")


def index_body() -> dict:
    return es.build_index(DOCUMENT_TYPE, "marketplace-contract-item-20261124").to_dict()


def search_body(**kwargs) -> dict:
    return es.build_search(DOCUMENT_TYPE, SearchQuery(object_type=TYPE, **kwargs), "alias").to_dict()


class TestIndexDefinition:
    def test_synonyms_come_from_the_shared_synonym_file_at_search_time(self):
        analysis_settings = index_body()["settings"]["analysis"]
        synonyms = analysis_settings["filter"]["nhs_synonyms"]
        assert synonyms["type"] == "synonym_graph"
        assert synonyms["synonyms"] == list(analysis.synonyms().lines)
        assert any({"ted", "anti embolism"} <= set(line.split(", ")) for line in synonyms["synonyms"])
        assert "nhs_synonyms" in analysis_settings["analyzer"]["nhs_english_search"]["filter"]
        assert "nhs_synonyms" not in analysis_settings["analyzer"]["nhs_english"]["filter"]

    def test_text_is_analysed_in_english(self):
        body = index_body()
        assert body["settings"]["analysis"]["filter"]["english_stemmer"] == {
            "type": "stemmer",
            "language": "english",
        }
        name = body["mappings"]["properties"]["text_name"]
        assert name == {"type": "text", "analyzer": "nhs_english", "search_analyzer": "nhs_english_search"}

    def test_identifiers_and_facets_are_keywords(self):
        properties = index_body()["mappings"]["properties"]
        assert properties["codes"] == {"type": "keyword"}
        for facet in DOCUMENT_TYPE.facet_fields:
            assert properties[f"facet_{facet.name}"] == {"type": "keyword"}

    def test_titles_have_an_edge_ngram_autocomplete_field(self):
        body = index_body()
        autocomplete = body["mappings"]["properties"]["title"]["fields"]["autocomplete"]
        assert autocomplete["analyzer"] == "nhs_autocomplete"
        tokenizer = body["settings"]["analysis"]["tokenizer"]["nhs_edge_ngram"]
        assert tokenizer["type"] == "edge_ngram"
        assert tokenizer["min_gram"] == 2

    def test_documents_carry_normalised_codes_and_facets(self):
        source = es.document_source(DOCUMENT_TYPE, doc(1, "Stocking", codes=("5012345678905", "npc 12")))
        assert source["codes"] == ["05012345678905", "NPC12"]
        assert source["facet_supplier"] == ["1"]
        assert source["text_name"] == "Stocking"

    def test_index_names_are_dated_behind_an_alias(self):
        backend = es.ElasticsearchBackend(
            url="http://localhost:9200", prefix="Marketplace", client=mock.Mock()
        )
        assert backend.alias("product") == "marketplace-product"
        assert backend.dated_name("product").startswith("marketplace-product-20")


class TestRequests:
    def test_text_matches_with_synonyms_and_with_fuzziness(self):
        body = search_body(text="TED stockings")
        should = body["query"]["bool"]["should"]
        assert should[0]["multi_match"]["operator"] == "and"
        assert "fuzziness" not in should[0]["multi_match"]
        assert should[1]["multi_match"]["fuzziness"] == "AUTO"
        assert "text_name^4.0" in should[0]["multi_match"]["fields"]
        assert body["suggest"]["corrections"]["term"]["suggest_mode"] == "missing"

    def test_facets_are_exact_aggregations_over_all_matches(self):
        body = search_body(text="gloves", filters={"stock": ["in_stock"]})
        assert set(body["aggs"]) == {f.name for f in DOCUMENT_TYPE.facet_fields}
        # A composite aggregation counts every value exactly, whatever the shards; a terms
        # aggregation would stop at its size and estimate across shards.
        assert body["aggs"]["supplier"] == {
            "composite": {
                "sources": [{"value": {"terms": {"field": "facet_supplier"}}}],
                "size": es.FACET_PAGE,
            }
        }
        assert body["track_total_hits"] is True
        # Counted over the filtered matches: filters are in the query, not post_filter.
        assert "post_filter" not in body
        assert {"terms": {"facet_stock": ["in_stock"]}} in body["query"]["bool"]["filter"]

    def test_the_next_page_of_a_facet_asks_for_the_same_matches_after_the_last_value(self):
        query = SearchQuery(object_type=TYPE, text="gloves", filters={"stock": ["in_stock"]})
        first = es.build_search(DOCUMENT_TYPE, query, "alias").to_dict()
        page = es.build_facet_page(DOCUMENT_TYPE, query, "alias", "supplier", {"value": "999"}).to_dict()
        assert page["query"] == first["query"]
        assert page["aggs"] == {
            "supplier": {
                "composite": {
                    "sources": [{"value": {"terms": {"field": "facet_supplier"}}}],
                    "size": es.FACET_PAGE,
                    "after": {"value": "999"},
                }
            }
        }
        assert page["size"] == 0

    def test_filters_pages_and_sorting(self):
        body = search_body(
            text="gloves",
            filters={"supplier": ["1", "2"]},
            price_min=Decimal("1.5"),
            sort=SortOrder.PRICE_LOW,
            offset=40,
            limit=20,
        )
        filters = body["query"]["bool"]["filter"]
        assert {"terms": {"facet_supplier": ["1", "2"]}} in filters
        assert {"range": {"price": {"gte": 1.5}}} in filters
        assert body["sort"][0] == {"price": {"order": "asc", "missing": "_last"}}
        assert (body["from"], body["size"]) == (40, 20)

    def test_identical_scores_favour_the_shortest_title(self):
        assert search_body(text="gauze swab")["sort"] == [
            "_score",
            {"title_length": "asc"},
            {"title.sort": "asc"},
            {"object_id": "asc"},
        ]
        assert search_body(text="")["sort"] == [{"title.sort": "asc"}, {"object_id": "asc"}]
        source = es.document_source(DOCUMENT_TYPE, doc(202, "Gauze swab"))
        assert source["title_length"] == 10
        assert index_body()["mappings"]["properties"]["title_length"] == {"type": "integer"}

    def test_sizes_are_canonical_words_on_both_sides(self):
        source = es.document_source(DOCUMENT_TYPE, doc(10, "Foam dressing, 10 cm x 10 cm"))
        assert source["text_name"].endswith(" 100x100mm 100mm")
        must = search_body(text="foam dressing 10x10")["query"]["bool"]["must"]
        assert must[0]["bool"]["should"][0]["multi_match"]["query"] == "foam dressing"
        assert [c["multi_match"]["query"] for c in must[1]["bool"]["should"]] == [
            "10x10",
            "100x100mm",
            "10x10mm",
            "10x10in",
        ]
        exact = search_body(text='cushion 18"')["query"]["bool"]["should"][0]["multi_match"]
        assert exact["query"] == "cushion 18in"

    def test_an_empty_query_matches_everything(self):
        assert search_body(text="")["query"] == {"match_all": {}}

    @pytest.mark.parametrize(
        "text", ['glove AND (box OR "', "*:* name:glove^10 ~2 \\", "'; DROP TABLE x; --"]
    )
    def test_syntax_characters_never_reach_a_query_parser(self, text):
        body = json.dumps(search_body(text=text))
        assert "query_string" not in body
        assert "*" not in body
        assert "\\\\" not in body

    def test_autocomplete_completes_prefixes_and_knows_synonyms(self):
        should = es.build_autocomplete("ted", "alias", 8).to_dict()["query"]["bool"]["should"]
        assert should[0] == {"match": {"title.autocomplete": {"query": "ted", "operator": "and"}}}
        # The title's search analyzer (nhs_english_search) carries the synonym filter.
        assert should[1] == {"match": {"title": {"query": "ted", "operator": "and"}}}

    def test_an_identifier_is_looked_up_exactly(self):
        body = es.build_identifier(analysis.code_candidates("5012345678905"), "alias").to_dict()
        assert body["query"] == {"bool": {"filter": [{"terms": {"codes": ["05012345678905"]}}]}}


def composite(values: list[tuple[str, int]], full: bool) -> dict:
    buckets = [{"key": {"value": v}, "doc_count": n} for v, n in values]
    answer: dict = {"buckets": buckets}
    if buckets and full:
        answer["after_key"] = {"value": values[-1][0]}
    return answer


class PagingClient:
    """Answers like a cluster holding 2,500 suppliers, each on 3 documents: the first search brings the
    first FACET_PAGE suppliers; later requests continue after the key they name."""

    def __init__(self):
        self.suppliers = [f"{n:04d}" for n in range(2_500)]
        self.bodies: list[dict] = []

    def page(self, after: str | None) -> dict:
        rest = [v for v in self.suppliers if after is None or v > after]
        chunk = rest[: es.FACET_PAGE]
        return composite([(v, 3) for v in chunk], full=len(chunk) == es.FACET_PAGE)

    def search(self, index, body):
        self.bodies.append(body)
        aggs = body.get("aggs", {})
        answer: dict = {"hits": {"total": {"value": 7_500, "relation": "eq"}, "hits": []}}
        answer["aggregations"] = {
            name: self.page(agg["composite"].get("after", {}).get("value"))
            if name == "supplier"
            else composite([("x", 7_500)], full=False)
            for name, agg in aggs.items()
        }
        return mock.Mock(body=answer)


def test_a_facet_with_more_values_than_a_page_is_read_to_its_last_value():
    client = PagingClient()
    backend = es.ElasticsearchBackend(url="http://es", prefix="marketplace", client=client)
    results = backend.search(DOCUMENT_TYPE, SearchQuery(object_type=TYPE, text="", filters={"stock": ["x"]}))
    assert results.total == 7_500
    assert len(results.facets["supplier"]) == 2_500
    assert {f.count for f in results.facets["supplier"]} == {3}
    # The search, then two more pages of suppliers only (1,000 + 1,000 + 500), for the same matches.
    assert len(client.bodies) == 3
    assert [list(b["aggs"]) for b in client.bodies[1:]] == [["supplier"], ["supplier"]]
    assert [b["aggs"]["supplier"]["composite"]["after"] for b in client.bodies[1:]] == [
        {"value": "0999"},
        {"value": "1999"},
    ]
    assert all(b["query"] == client.bodies[0]["query"] for b in client.bodies[1:])


class FakeIndices:
    def __init__(self, existing: list[str]):
        self.existing = existing
        self.calls: list[tuple] = []

    def create(self, index, **body):
        self.calls.append(("create", index))

    def exists_alias(self, name):
        return bool(self.existing)

    def get_alias(self, name):
        return {i: {"aliases": {name: {}}} for i in self.existing}

    def put_settings(self, index, settings):
        self.calls.append(("put_settings", index, settings))

    def refresh(self, index):
        self.calls.append(("refresh", index))

    def update_aliases(self, actions):
        self.calls.append(("update_aliases", actions))

    def delete(self, index, ignore_unavailable=False):
        self.calls.append(("delete", index))


class TestRebuild:
    def test_rebuild_fills_a_new_index_then_swaps_the_alias_and_drops_the_old_one(self):
        client = mock.Mock()
        client.indices = FakeIndices(existing=["marketplace-contract-item-old"])
        backend = es.ElasticsearchBackend(url="http://es", prefix="marketplace", client=client)
        done: list[int] = []
        with mock.patch.object(
            es.helpers, "bulk", side_effect=lambda c, actions, **kw: (len(list(actions)), [])
        ):
            written = backend.rebuild(DOCUMENT_TYPE, [[doc(1, "A"), doc(2, "B")], [doc(3, "C")]], done.append)
        assert written == 3
        assert done == [2, 3]
        names = [c[0] for c in client.indices.calls]
        assert names == ["create", "put_settings", "refresh", "update_aliases", "delete"]
        new_index = client.indices.calls[0][1]
        assert client.indices.calls[3][1] == [
            {"remove": {"index": "marketplace-contract-item-old", "alias": "marketplace-contract-item"}},
            {"add": {"index": new_index, "alias": "marketplace-contract-item"}},
        ]
        assert client.indices.calls[4] == ("delete", "marketplace-contract-item-old")

    def test_a_failed_rebuild_leaves_the_alias_alone(self):
        client = mock.Mock()
        client.indices = FakeIndices(existing=["marketplace-contract-item-old"])
        backend = es.ElasticsearchBackend(url="http://es", prefix="marketplace", client=client)
        with (
            mock.patch.object(es.helpers, "bulk", side_effect=ConnectionError("cluster gone")),
            pytest.raises(ConnectionError),
        ):
            backend.rebuild(DOCUMENT_TYPE, [[doc(1, "A")]])
        assert [c[0] for c in client.indices.calls] == ["create", "delete"]


def test_health_raises_when_the_cluster_does_not_answer():
    client = mock.Mock()
    client.ping.return_value = False
    backend = es.ElasticsearchBackend(url="http://es", prefix="marketplace", client=client)
    with pytest.raises(SearchUnavailable):
        backend.health()


@pytest.mark.skipif(
    not ELASTICSEARCH_URL, reason="ELASTICSEARCH_URL is not set: no live Elasticsearch cluster"
)
class TestElasticsearchBackend(SearchBackendContract):
    @pytest.fixture
    def backend(self):
        backend = es.ElasticsearchBackend(
            url=ELASTICSEARCH_URL, prefix=f"test-{uuid.uuid4().hex[:8]}", refresh="wait_for"
        )
        backend.ensure_index(DOCUMENT_TYPE)
        yield backend
        backend.client.indices.delete(index=f"{backend.prefix}-*", ignore_unavailable=True)
