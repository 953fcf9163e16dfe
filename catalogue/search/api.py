"""The search API: GET /api/v1/search/ and GET /api/v1/search/autocomplete/."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.filters import filter_params
from catalogue.indexing import PATIENT_ELIGIBLE, PRICE_BANDS, PRODUCT_DOCUMENT
from catalogue.models import StockStatus
from catalogue.search import selectors as search_selectors
from catalogue.search.forms import FILTERS, MAX_QUERY_LENGTH, SORT_CHOICES
from common.api import error_responses
from search import selectors
from search.types import InvalidSearch, SearchQuery, SearchUnavailable, SortOrder

MAX_PAGE_SIZE = 100
# Filters whose values are a fixed set: anything else is a 400, not an empty answer.
CLOSED_FILTERS = {"stock": StockStatus.values, "price_band": [key for key, _, _ in PRICE_BANDS]}


def _known(name: str, values: list[str], known: list[str]) -> list[str]:
    unknown = [v for v in values if v and v not in known]
    if unknown:
        raise serializers.ValidationError(f"Unknown {name} {unknown[0]!r}: choose from {', '.join(known)}.")
    return values


class SearchInputSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH, default="")
    category = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    supplier = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    price_band = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    stock = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    patient_eligible = serializers.BooleanField(required=False, allow_null=True, default=None)
    price_min = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    sort = serializers.ChoiceField(choices=SORT_CHOICES, required=False, default=SortOrder.RELEVANCE.value)
    page = serializers.IntegerField(min_value=1, max_value=500, required=False, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=20)

    def to_internal_value(self, data):
        # Repeated parameters (?supplier=1&supplier=2) become lists.
        if hasattr(data, "getlist"):
            data = {
                key: data.getlist(key) if key in FILTERS and key != "patient_eligible" else data.get(key)
                for key in data
            }
        return super().to_internal_value(data)

    def validate_stock(self, values: list[str]) -> list[str]:
        return _known("stock", values, StockStatus.values)

    def validate_price_band(self, values: list[str]) -> list[str]:
        return _known("price_band", values, [key for key, _, _ in PRICE_BANDS])

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"price_min": "The lowest price must not be above the highest price."}
            )
        return attrs


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class ProductResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    manufacturer = serializers.CharField()
    category_path = serializers.CharField()
    unit_of_measure = serializers.CharField()
    lowest_unit_price = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    live_offers = serializers.IntegerField()
    in_stock_offers = serializers.IntegerField()
    patient_eligible = serializers.BooleanField()


class SearchOutputSerializer(serializers.Serializer):
    query = serializers.CharField()
    corrected_query = serializers.CharField(allow_null=True)
    exact_match = serializers.BooleanField(help_text="The query was an identifier of exactly this product.")
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = ProductResultSerializer(many=True)
    facets = serializers.DictField(child=FacetValueSerializer(many=True))
    facets_exact = serializers.BooleanField(
        help_text="False when facet counts are estimates (very large result sets are sampled)."
    )


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField(help_text="The product's page, which choosing the suggestion opens.")


class AutocompleteOutputSerializer(serializers.Serializer):
    query = serializers.CharField()
    suggestions = SuggestionSerializer(many=True)


def _error(field: str, message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    error_code = "invalid" if code == status.HTTP_400_BAD_REQUEST else "search_unavailable"
    return Response(
        {"detail": message, "code": error_code, "field": field, "errors": {field: [message]}}, status=code
    )


class SearchApi(APIView):
    @extend_schema(
        operation_id="search_products",
        parameters=[
            SearchInputSerializer,
            *[
                OpenApiParameter(name, str, many=True, explode=True, enum=CLOSED_FILTERS.get(name))
                for name in FILTERS
                if name != "patient_eligible"
            ],
        ],
        responses={200: SearchOutputSerializer, **error_responses(503)},
        description=(
            "Search live products. Filters take facet values from a previous answer's `facets`; "
            "repeat a parameter for any of several values. An exact GTIN, NPC, SKU or part number "
            "answers with that product alone and `exact_match: true`."
        ),
    )
    def get(self, request: Request) -> Response:
        data = SearchInputSerializer(data=filter_params(request.query_params))
        data.is_valid(raise_exception=True)
        params = data.validated_data
        filters = {name: params[name] for name in FILTERS if params.get(name) and name != "patient_eligible"}
        if params.get("patient_eligible"):
            filters["patient_eligible"] = [PATIENT_ELIGIBLE]
        text = params["q"]
        try:
            if text and not filters and params["page"] == 1:
                match = selectors.find_identifier(text)
                if match:
                    cards = search_selectors.product_cards([match.object_id])
                    if cards:
                        return Response(
                            self._answer(text, None, True, 1, 1, params["page_size"], cards, {}, exact=True)
                        )
            results = selectors.search(
                SearchQuery(
                    text=text,
                    filters=filters,
                    price_min=params.get("price_min"),
                    price_max=params.get("price_max"),
                    sort=SortOrder(params["sort"]),
                    offset=(params["page"] - 1) * params["page_size"],
                    limit=params["page_size"],
                )
            )
        except InvalidSearch as exc:
            return _error(exc.field, exc.message)
        except SearchUnavailable as exc:
            return _error("q", str(exc), status.HTTP_503_SERVICE_UNAVAILABLE)
        facets = search_selectors.label_facets(
            results.facets, selected_categories=filters.get("category", [])
        )
        return Response(
            self._answer(
                text,
                results.corrected_text,
                False,
                results.total,
                params["page"],
                params["page_size"],
                search_selectors.product_cards(results.ids, filters=filters),
                facets,
                exact=results.facets_exact,
            )
        )

    @staticmethod
    def _answer(text, corrected, exact_match, total, page, page_size, cards, facets, *, exact: bool) -> dict:
        return SearchOutputSerializer(
            {
                "query": text,
                "corrected_query": corrected,
                "exact_match": exact_match,
                "facets_exact": exact,
                "total": total,
                "page": page,
                "page_size": page_size,
                "results": [card.__dict__ for card in cards],
                "facets": {
                    field.name: [
                        {"value": f.value, "label": f.label or f.value, "count": f.count}
                        for f in facets.get(field.name, [])
                    ]
                    for field in PRODUCT_DOCUMENT.facet_fields
                }
                if facets
                else {},
            }
        ).data


class AutocompleteInputSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=20, required=False, default=8)


class AutocompleteApi(APIView):
    @extend_schema(
        operation_id="search_autocomplete",
        parameters=[AutocompleteInputSerializer],
        responses={200: AutocompleteOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        data = AutocompleteInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        text = data.validated_data["q"]
        suggestions = selectors.autocomplete(text, limit=data.validated_data["limit"])
        urls = search_selectors.product_urls([s.object_id for s in suggestions])
        return Response(
            AutocompleteOutputSerializer(
                {
                    "query": text,
                    "suggestions": [
                        {"id": s.object_id, "name": s.title, "url": urls[s.object_id]}
                        for s in suggestions
                        if s.object_id in urls
                    ],
                }
            ).data
        )
