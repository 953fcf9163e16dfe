"""With DEBUG off, a missing page, a refused page and a failure look like the rest of the NHS.UK site."""

from __future__ import annotations

import pytest
from django.test import Client

from organisations.models import Role
from tests.organisations.factories import TrustFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug_off(settings):
    settings.DEBUG = False


def test_a_missing_page_says_what_to_check_and_where_to_go(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert "nhsuk-header" in page and "nhsuk-footer" in page
    assert 'href="/search/"' in page


def test_another_organisations_product_upload_reads_as_not_found_in_the_same_style(client):
    client.force_login(member(Role.BUYER, TrustFactory()))
    response = client.get("/catalogue/imports/999999/")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_a_failure_shows_the_nhs_style_page_without_touching_the_session_or_database(monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(member(Role.BUYER, TrustFactory()))

    def broken(**kwargs):
        raise RuntimeError("database on fire at db.internal:5432")

    monkeypatch.setattr("catalogue.selectors.category_tree", broken)
    response = client.get("/catalogue/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Sorry, there is a problem with the service" in page
    assert "nhsuk-header" in page and 'href="/status/"' in page
    assert "db.internal" not in page and "Traceback" not in page
