"""An analytics page names the filter it cannot use, instead of quietly showing other figures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organisations.models import Role
from tests.organisations.factories import TrustFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "AAA"}, "id_region"),
        ({"period": "fy1899"}, "id_period"),
        ({"category": "10" * 20}, "id_category"),
    ],
)
def test_an_unknown_filter_value_is_named_on_the_national_page(client, params, field):
    client.force_login(member(Role.BUYER, TrustFactory(ods_code="RR8")))
    page = client.get(reverse("pricing:national"), params).content.decode()
    assert "There is a problem" in page
    assert f'href="#{field}"' in page
    assert "The figures below leave out the filter to correct." in page


def test_a_valid_filter_raises_no_problem(client):
    client.force_login(member(Role.BUYER, TrustFactory(ods_code="RR8")))
    page = client.get(reverse("pricing:national"), {"region": ""}).content.decode()
    assert "There is a problem" not in page
