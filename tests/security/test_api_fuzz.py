"""Schema fuzzing: schemathesis generates requests from the OpenAPI schema (/api/schema/) for every
operation and sends each one as every role (token authentication): a buyer, a trust admin, a
supplier admin, a patient, an ICB budget manager, and nobody. No answer is a server error, and
every answer is as documented: its status, content type, headers and body are in the schema.

Bounded to run in a minute or two (a few examples per operation, no deadline, a fixed seed):
`make test` runs it. `make fuzz` runs it alone with more examples (FUZZ_EXAMPLES) and a new seed
each time (FUZZ_SEED, which it prints: set it to replay a run).
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalogue.models import OfferStatus
from organisations.models import Role
from pricing import analytics
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import PatientProfileFactory, SupplierFactory, TrustFactory, member
from tests.pricing.helpers import line

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# A fixed seed in `make test`, so CI sends the same requests every run; `make fuzz` draws a new one.
SEED = int(os.environ.get("FUZZ_SEED", "20261204"))
ROLES = ("buyer", "trust_admin", "supplier_admin", "patient", "budget_manager", "anonymous")


def _raw_schema() -> dict:
    # The same document /api/schema/ serves (drf-spectacular's generator, public view).
    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(_raw_schema())
schema.config.seed = SEED
schema.app = WSGIHandler()


def not_a_server_error(ctx, response, case) -> bool | None:
    assert response.status_code < 500, f"{case.method} {case.formatted_path} answered {response.status_code}"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def tokens(django_db_blocker) -> dict[str, str | None]:
    """A small world with something in every list, and one token per role."""
    trust = TrustFactory()
    supplier = SupplierFactory(is_trusted_supplier=True)
    category = CategoryFactory()
    product = ProductFactory(category=category)
    OfferFactory(product=product, supplier=supplier, pack_price=Decimal("14.40"))
    OfferFactory(supplier=supplier, status=OfferStatus.PENDING)
    line(trust, product, packs="10", pack_price="5.00")
    analytics.summaries_refresh(full=True)
    users = {
        "buyer": member(Role.BUYER, trust),
        "trust_admin": member(Role.TRUST_ADMIN, trust),
        "supplier_admin": member(Role.SUPPLIER_ADMIN, supplier),
        "patient": PatientProfileFactory().user,
        "budget_manager": member(Role.BUDGET_MANAGER),
    }
    found = {role: Token.objects.create(user=user).key for role, user in users.items()}
    return found | {"anonymous": None}


@pytest.fixture
def _keep_the_test_transaction():
    """Django's WSGI handler closes the connection after each request, which would end the test's
    transaction; the test client does the same as this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented_for_every_role(case, tokens, _keep_the_test_transaction):
    for role in ROLES:
        headers = {"Authorization": f"Token {tokens[role]}"} if tokens[role] else {}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
