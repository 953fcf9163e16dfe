"""Every API that takes an Idempotency-Key reads it one way: missing, blank or too long is a 400 naming
the header, and the longest key accepted fits every column a key is stored in."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from common.api import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_LENGTH, idempotency_key
from common.errors import DomainError
from personal_budgets.models import Budget, Refund, SupportPlan
from purchasing.models import CheckoutRequest
from purchasing.returns.models import OrderReturn


def request_with(key: str | None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return APIRequestFactory().post("/", **headers)


@pytest.mark.parametrize("key", [None, "", "   ", "k" * (IDEMPOTENCY_KEY_LENGTH + 1)])
def test_a_missing_blank_or_overlong_key_is_refused_naming_the_header(key):
    with pytest.raises(DomainError) as refused:
        idempotency_key(request_with(key), for_each="checkout")
    assert refused.value.field == IDEMPOTENCY_HEADER
    assert "new for each checkout" in refused.value.message


def test_a_key_is_read_trimmed_up_to_the_longest_allowed():
    assert idempotency_key(request_with("  abc  ")) == "abc"
    longest = "k" * IDEMPOTENCY_KEY_LENGTH
    assert idempotency_key(request_with(longest)) == longest


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (CheckoutRequest, "key"),
        (Refund, "key"),
        (OrderReturn, "key"),
        (Budget, "request_key"),
        (SupportPlan, "request_key"),
    ],
)
def test_every_column_that_stores_a_key_holds_the_longest(model, column):
    assert model._meta.get_field(column).max_length >= IDEMPOTENCY_KEY_LENGTH
