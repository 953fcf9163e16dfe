"""The search API: GET /api/v1/search/ and GET /api/v1/search/autocomplete/.

The search is parsed by the search page's own form (`catalogue.search.forms.SearchForm`) and answered
by the same selector (`catalogue.search.selectors.product_search`): the page and the API cannot drift.
"""

from __future__ import annotations

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.filters import filter_params
from catalogue.indexing import PRODUCT_DOCUMENT
from catalogue.search import selectors as search_selectors
from catalogue.search.forms import FilterValuesField, SearchForm, TrueFalseField
from common.api import error_responses
from common.errors import DomainError
from search import selectors
from search.types import InvalidSearch, SearchUnavailable


class SearchUnavailableError(DomainError):
    """The search engine cannot answer: a 503 naming the search box, never a 500."""

    status_code = 503
    code = "search_unavailable"


def openapi_parameters(form_class: type[forms.Form]) -> list[OpenApiParameter]:
    """The query parameters of the schema, read off the form that parses them (one definition)."""
    parameters = []
    for name, field in form_class.base_fields.items():
        kind = OpenApiTypes.STR
        if isinstance(field, forms.IntegerField):
            kind = OpenApiTypes.INT
        elif isinstance(field, TrueFalseField):
            kind = OpenApiTypes.BOOL
        many = isinstance(field, FilterValuesField)
        enum = getattr(field, "choices", None)
        if isinstance(field, forms.ChoiceField):
            enum = [value for value, _ in field.choices]
        limits = [
            f"{label} {value}"
            for label, value in (
                ("at least", getattr(field, "min_value", None)),
                ("at most", getattr(field, "max_value", None)),
            )
            if value is not None
        ]
        description = " ".join(
            part for part in (str(field.help_text or ""), ", ".join(limits) + "." if limits else "") if part
        )
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                many=many,
                explode=many if many else None,
                enum=list(enum) if enum else None,
                description=description,
                required=False,
            )
        )
    return parameters


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
        help_text="Always true: every count is exact on every search backend. Deprecated; kept for "
        "clients written when very large result sets had estimated counts."
    )


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField(help_text="The product's page, which choosing the suggestion opens.")


class AutocompleteOutputSerializer(serializers.Serializer):
    query = serializers.CharField()
    suggestions = SuggestionSerializer(many=True)


class SearchApi(APIView):
    @extend_schema(
        operation_id="search_products",
        parameters=openapi_parameters(SearchForm),
        responses={200: SearchOutputSerializer, **error_responses(503)},
        description=(
            "Search live products. Filters take facet values from a previous answer's `facets`; "
            "repeat a parameter for any of several values. An exact GTIN, NPC, SKU or part number "
            "answers with that product alone and `exact_match: true`. The parameters and their limits "
            "are the search page's own."
        ),
    )
    def get(self, request: Request) -> Response:
        form = SearchForm(filter_params(request.query_params), page_size_allowed=True)
        if not form.is_valid():
            raise ValidationError(form.errors_by_field())
        try:
            found = search_selectors.product_search(form.search_query())
        except InvalidSearch as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        except SearchUnavailable as exc:
            raise SearchUnavailableError(str(exc), field="q") from None
        return Response(
            self._answer(
                form.text,
                found.corrected_text,
                bool(found.exact),
                found.total,
                1 if found.exact else form.page_number,
                form.results_per_page,
                list(found.cards),
                found.facets,
            )
        )

    @staticmethod
    def _answer(text, corrected, exact_match, total, page, page_size, cards, facets) -> dict:
        return SearchOutputSerializer(
            {
                "query": text,
                "corrected_query": corrected,
                "exact_match": exact_match,
                "facets_exact": True,
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
