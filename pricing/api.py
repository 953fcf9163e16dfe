"""REST API for price analytics and purchase-history uploads. Decimals are strings; scoped like the pages."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.models import Product
from common.api import ImportStatusSerializer, error_responses
from common.errors import DomainError, NotFound
from common.imports import UploadedFile, import_job_for_user, import_job_status
from common.uploads import validate_upload
from organisations.acting import HEADER, ActsForWhomItSays, acting_for, choices
from organisations.models import OrganisationKind, Region
from pricing import selectors, services
from pricing.filters import AnalyticsFilter
from pricing.imports import KIND

PERIOD = OpenApiParameter(
    "period", str, description="Period slug, e.g. fy2025 or 2026q3; default latest year"
)
CATEGORY = OpenApiParameter("category", int, description="Category id (its subcategories included)")
REGION = OpenApiParameter("region", str, enum=Region.values, description="NHS region")
NOT_HERE = (
    "Not found for you: the caller acts for no NHS trust, the object is not theirs, or there are no "
    "figures yet."
)


class IsTrustMember(ActsForWhomItSays):
    """Analytics are for people who act for a trust; others are told there is nothing here (404)."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.user.is_staff or any(o.is_trust for o in choices(request)):
            return True
        raise NotFound("Price analytics are for NHS trusts.")


def _filters(request: Request):
    """The valid filters and the period; an unknown period, region or category is a 400 naming it,
    never the default's figures."""
    filters = AnalyticsFilter(request.query_params or None)
    if filters.is_bound and filters.form.errors:
        raise serializers.ValidationError(
            {name: [str(message) for message in messages] for name, messages in filters.form.errors.items()}
        )
    cleaned = filters.cleaned()
    period = selectors.period_from_slug(cleaned["period"])
    if period is None:
        raise NotFound("No figures yet.")
    return cleaned, period


class PeriodSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class StatsSerializer(serializers.Serializer):
    trusts = serializers.IntegerField()
    lines = serializers.IntegerField()
    units = serializers.DecimalField(max_digits=24, decimal_places=3)
    spend = serializers.DecimalField(max_digits=20, decimal_places=2)
    ppu_min = serializers.DecimalField(max_digits=18, decimal_places=4)
    ppu_p10 = serializers.DecimalField(max_digits=18, decimal_places=4, help_text="The target price per unit")
    ppu_median = serializers.DecimalField(max_digits=18, decimal_places=4)
    ppu_p90 = serializers.DecimalField(max_digits=18, decimal_places=4)
    ppu_max = serializers.DecimalField(max_digits=18, decimal_places=4)
    spread = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    cv = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    savings_target = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_median = serializers.DecimalField(max_digits=20, decimal_places=2)


class PointSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The trust's name where it allows it (or yours), else 'Trust n'")
    ppu = serializers.DecimalField(max_digits=18, decimal_places=4)
    is_viewer = serializers.BooleanField()
    named = serializers.BooleanField()


class VarianceSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    product_name = serializers.CharField(source="product.name")
    period = PeriodSerializer()
    stats = StatsSerializer(allow_null=True)
    trusts = PointSerializer(many=True, source="points")


class ProductVarianceApi(APIView):
    permission_classes = [IsTrustMember]

    @extend_schema(
        parameters=[PERIOD],
        responses={200: VarianceSerializer, **error_responses(404, e404=NOT_HERE)},
        summary="Every trust's price per unit",
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = Product.objects.filter(pk=product_id).first()
        if product is None:
            raise NotFound("No such product.")
        _, period = _filters(request)
        variance = selectors.product_variance(
            product=product, period=period, viewer=acting_for(request, kind=OrganisationKind.TRUST).trust
        )
        return Response(VarianceSerializer(variance).data)


class OpportunitySerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    product_name = serializers.CharField(source="product.name")
    units = serializers.DecimalField(max_digits=24, decimal_places=3)
    spend = serializers.DecimalField(max_digits=20, decimal_places=2)
    ppu = serializers.DecimalField(max_digits=18, decimal_places=4)
    target = serializers.DecimalField(max_digits=18, decimal_places=4)
    median = serializers.DecimalField(max_digits=18, decimal_places=4)
    saving_vs_target = serializers.DecimalField(max_digits=20, decimal_places=2)
    saving_vs_median = serializers.DecimalField(max_digits=20, decimal_places=2)


class TotalsSerializer(serializers.Serializer):
    products = serializers.IntegerField()
    spend = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_target = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_median = serializers.DecimalField(max_digits=20, decimal_places=2)


class TrendSerializer(serializers.Serializer):
    period = PeriodSerializer()
    spend = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_target = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_median = serializers.DecimalField(max_digits=20, decimal_places=2)


class TrustSavingsSerializer(serializers.Serializer):
    ods_code = serializers.CharField()
    name = serializers.CharField()
    period = PeriodSerializer()
    totals = TotalsSerializer(allow_null=True)
    opportunities = OpportunitySerializer(many=True)
    trend = TrendSerializer(many=True)


class TrustSavingsApi(APIView):
    permission_classes = [IsTrustMember]

    @extend_schema(
        parameters=[PERIOD, CATEGORY],
        responses={200: TrustSavingsSerializer, **error_responses(404, e404=NOT_HERE)},
        summary="A trust's possible savings",
    )
    def get(self, request: Request, ods_code: str) -> Response:
        trust = selectors.trust_for_user_or_404(user=request.user, ods_code=ods_code)
        cleaned, period = _filters(request)
        body = {
            "ods_code": trust.ods_code,
            "name": trust.name,
            "period": period,
            "totals": selectors.trust_totals(trust=trust, period=period),
            "opportunities": selectors.trust_opportunities(
                trust=trust, period=period, category=cleaned["category"], limit=None
            ),
            "trend": selectors.trust_trend(trust=trust),
        }
        return Response(TrustSavingsSerializer(body).data)


class ProductSavingSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    product_name = serializers.CharField(source="product.name")
    trusts = serializers.IntegerField()
    spend = serializers.DecimalField(max_digits=20, decimal_places=2)
    ppu_p10 = serializers.DecimalField(max_digits=18, decimal_places=4)
    ppu_median = serializers.DecimalField(max_digits=18, decimal_places=4)
    spread = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    savings_target = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_median = serializers.DecimalField(max_digits=20, decimal_places=2)


SUPPRESSED = (
    "True when the figures cover fewer trusts than `min_group_trusts`: they are then null, so that no "
    "trust's spend can be read through a small group."
)


class RegionSerializer(serializers.Serializer):
    region = serializers.CharField()
    label = serializers.CharField()
    suppressed = serializers.BooleanField(help_text=SUPPRESSED)
    trusts = serializers.IntegerField(allow_null=True)
    spend = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    savings_target = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    savings_median = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)


class NationalTotalsSerializer(serializers.Serializer):
    suppressed = serializers.BooleanField(help_text=SUPPRESSED)
    trusts = serializers.IntegerField(allow_null=True)
    products = serializers.IntegerField(allow_null=True)
    spend = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    savings_target = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    savings_median = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)


class NationalSavingsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    min_group_trusts = serializers.IntegerField(
        help_text="Figures covering fewer trusts than this are suppressed (setting PRICING_MIN_GROUP_TRUSTS)."
    )
    region_suppressed = serializers.BooleanField(
        help_text="True when a region was asked for and fewer than `min_group_trusts` of its trusts have "
        "figures: `products` is then empty."
    )
    totals = NationalTotalsSerializer()
    regions = RegionSerializer(many=True)
    products = ProductSavingSerializer(
        many=True,
        help_text="Products bought by fewer than `min_group_trusts` trusts (in the region) are left out.",
    )


class NationalSavingsApi(APIView):
    permission_classes = [IsTrustMember]

    @extend_schema(
        parameters=[PERIOD, CATEGORY, REGION],
        responses={200: NationalSavingsSerializer, **error_responses(404, e404=NOT_HERE)},
        summary="National and regional possible savings, and the products with the largest",
    )
    def get(self, request: Request) -> Response:
        cleaned, period = _filters(request)
        region = cleaned["region"]
        body = {
            "period": period,
            "min_group_trusts": selectors.min_group_trusts(),
            "region_suppressed": bool(region)
            and selectors.group_too_small(selectors.region_trusts(period=period, region=region)),
            "totals": selectors.national_totals(period=period),
            "regions": selectors.region_totals(period=period),
            "products": selectors.top_savings(
                period=period, category=cleaned["category"], region=cleaned["region"], limit=100
            ),
        }
        return Response(NationalSavingsSerializer(body).data)


class PurchaseHistoryUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX in the purchase-history format (docs/formats.md)")

    def validate_file(self, value):
        try:
            validate_upload(value)
        except DomainError as error:
            raise serializers.ValidationError(error.message) from None
        return value


class ImportCreateApi(APIView):
    permission_classes = [IsTrustMember]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=PurchaseHistoryUploadSerializer,
        responses={
            202: ImportStatusSerializer,
            **error_responses(
                400,
                403,
                404,
                e400="No file, not a CSV/XLSX file within the upload limits, or the caller acts for several "
                f"trusts and sent no {HEADER} header.",
                e403=f"{HEADER} names an organisation the caller does not act for, or not a trust.",
                e404=NOT_HERE,
            ),
        },
        summary="Upload purchase history for the acting trust; poll the status URL until finished",
        description=f"The file is for the trust the request acts for ({HEADER}: its ODS code); every "
        "row's trust_ods must name it, or that row is an error and nothing is applied.",
    )
    def post(self, request: Request) -> Response:
        upload = PurchaseHistoryUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        # Never guessed: a caller acting for several trusts says which with the header (400 otherwise).
        trust = acting_for(request, kind=OrganisationKind.TRUST).require()
        job = services.purchase_history_import_start(
            trust=trust, actor=request.user, upload=UploadedFile(name=file.name, content=file.file)
        )
        url = reverse("pricing-api-import", args=[job.pk])
        body = {**import_job_status(job), "url": request.build_absolute_uri(url)}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class ImportDetailApi(APIView):
    permission_classes = [IsTrustMember]

    @extend_schema(
        responses={200: ImportStatusSerializer, **error_responses(404, e404=NOT_HERE)},
        summary="An upload's progress, outcome and problems",
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = import_job_for_user(kind=KIND, user=request.user, job_id=job_id)
        url = reverse("pricing-api-import", args=[job.pk])
        return Response({**import_job_status(job), "url": request.build_absolute_uri(url)})
