"""Fixtures for the catalogue tests."""

from tests.catalogue.search_fixtures import catalogue  # noqa: F401 - a fixture shared by the search tests
