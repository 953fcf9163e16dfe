"""Fixtures for the catalogue tests."""

import pytest
from rest_framework.test import APIClient

from organisations.models import Role
from tests.catalogue.search_fixtures import catalogue  # noqa: F401 - a fixture shared by the search tests
from tests.organisations.factories import TrustFactory, member


@pytest.fixture
def buyer(client):
    """A trust's buyer, signed in on `client` (modules with their own `buyer` keep theirs)."""
    user = member(Role.BUYER, TrustFactory(name="Northshire Hospitals NHS Trust"))
    client.force_login(user)
    return user


@pytest.fixture
def api(buyer):
    """The API as `buyer`."""
    client = APIClient()
    client.force_authenticate(buyer)
    return client
