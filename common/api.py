"""API pieces every app shares: pagination, error shapes, upload job status, amounts as strings, and
the Idempotency-Key header."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import metadata, pagination, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

from common.errors import DomainError
from common.models import ImportJob


class Metadata(metadata.SimpleMetadata):
    """OPTIONS answers name, description, renders and parses; not DRF's form of each action, which
    needs one serializer per view (ours have one per operation) and the schema documents anyway."""

    def determine_actions(self, request, view) -> dict:
        return {}


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, but a page that does not exist (0, -1, "x", past the last) is the
    caller's error about `page` (400), not a 404 that reads as "this list does not exist"."""

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as error:
            raise ValidationError({self.page_query_param: [str(error.detail)]}) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row (the header is row 1); 0 for the whole file.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportStatusSerializer(serializers.Serializer):
    """What `common.imports.import_job_status` returns, plus the job's own URL."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportJob.Status.values)
    status_display = serializers.CharField()
    finished = serializers.BooleanField()
    file_name = serializers.CharField()
    processed = serializers.IntegerField(help_text="Rows checked so far.")
    total = serializers.IntegerField(help_text="Rows in the file (0 until counted).")
    percent = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    summary = serializers.DictField(help_text="Once imported: what was created, updated or left unchanged.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="Poll this until `finished` is true.")


# The error body every endpoint answers with (marketplace.api.exception_handler) -------------------


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words for people.")
    code = serializers.CharField(help_text="What went wrong, for programs: invalid, not_found, ...")
    field = serializers.CharField(required=False, help_text="The input at fault, when one is.")
    errors = serializers.DictField(
        required=False, help_text="Validation errors: each input at fault with its messages."
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input: `field` names the first input at fault, `errors` every one.",
    401: "No or wrong credentials (send `Authorization: Token <key>`).",
    403: "Signed in, but not allowed to do this.",
    404: "No such object for you (whether it does not exist or belongs to someone else).",
    409: "Conflicts with what is there already.",
    429: "Too many requests: throttled, or the account is locked.",
    503: "A service this needs (the search engine) is unavailable: try again later.",
}


def error_responses(*statuses: int, **descriptions: str) -> dict:
    """Schema responses for these error statuses, each with the error body; `e404="..."` words one."""
    return {
        status: OpenApiResponse(
            ErrorOutput, description=descriptions.get(f"e{status}", ERROR_DESCRIPTIONS[status])
        )
        for status in statuses
    }


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_LENGTH = 100  # the request-key columns that store it are this long


def idempotency_parameter(description: str) -> OpenApiParameter:
    """The schema of a required Idempotency-Key header; `description` says what the same key again does."""
    return OpenApiParameter(
        IDEMPOTENCY_HEADER,
        {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_LENGTH},
        location=OpenApiParameter.HEADER,
        required=True,
        description=description,
    )


def idempotency_key(request: Request, *, for_each: str = "") -> str:
    """The request's Idempotency-Key header, or a 400 naming the header (`for_each`: "checkout" words
    the error "..., new for each checkout")."""
    key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_LENGTH:
        new = f", new for each {for_each}" if for_each else ""
        raise DomainError(
            f"Send an {IDEMPOTENCY_HEADER} header of 1 to {IDEMPOTENCY_KEY_LENGTH} characters{new}.",
            field=IDEMPOTENCY_HEADER,
        )
    return key


MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT_MONEY = {"max_digits": 18, "decimal_places": 4}


class AmountField(serializers.DecimalField):
    """A Decimal amount sent and returned as a string; JSON numbers are refused (they are floats)."""

    default_error_messages = {"float": 'Send amounts as strings, for example "12.50", not as numbers.'}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", MONEY["max_digits"])
        kwargs.setdefault("decimal_places", MONEY["decimal_places"])
        kwargs["coerce_to_string"] = True
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        return super().to_internal_value(data)
