"""The CMS: the home page is the site's root, in NHS.UK style; content pages show their StreamField body."""

from __future__ import annotations

import pytest
from wagtail.blocks import StructBlockValidationError
from wagtail.models import Page, Site

from marketplace.models import CallToActionBlock, ContentPage, HomePage
from tests.organisations.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_replaces_wagtails_welcome_page():
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert not Page.objects.filter(depth=2).exclude(pk=site.root_page.pk).exists()


def test_the_home_page_invites_visitors_to_sign_in_and_browse(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="nhsuk-header"' in page and 'class="nhsuk-footer"' in page
    assert 'class="nhsuk-skip-link"' in page
    assert "nhsuk-hero__heading" in page
    assert 'href="/accounts/sign-in/"' in page
    assert 'href="/catalogue/"' in page
    assert "/static/nhsuk/nhsuk-frontend.min.css" in page
    assert "cdn" not in page.lower()


def test_a_signed_in_visitor_is_offered_their_start_page(client):
    client.force_login(UserFactory())
    page = client.get("/").content.decode()
    assert 'href="/start/"' in page
    assert 'href="/accounts/sign-in/"' not in page


def test_a_content_page_renders_headings_text_and_calls_to_action(client):
    home = HomePage.objects.get()
    guidance = ContentPage(
        title="How buying works",
        slug="how-buying-works",
        summary="From basket to delivery.",
        body=[
            ("heading", "Approvals"),
            ("paragraph", "<p>Orders over the <b>threshold</b> need an approver.</p>"),
            ("call_to_action", {"text": "Sign in to start", "page": None, "url": "/accounts/sign-in/"}),
        ],
    )
    home.add_child(instance=guidance)
    guidance.save_revision().publish()
    response = client.get("/how-buying-works/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>How buying works</h1>" in page
    assert "<h2>Approvals</h2>" in page
    assert "<b>threshold</b>" in page
    assert 'class="nhsuk-action-link" href="/accounts/sign-in/"' in page
    assert 'class="nhsuk-breadcrumb"' in page


def test_a_call_to_action_needs_a_page_or_an_address_not_both():
    block = CallToActionBlock()
    with pytest.raises(StructBlockValidationError):
        block.clean(block.to_python({"text": "Go", "page": None, "url": ""}))
    assert (
        block.clean(block.to_python({"text": "Go", "page": None, "url": "/catalogue/"}))["url"]
        == "/catalogue/"
    )


def test_staff_can_create_a_content_page_in_the_cms(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    home = HomePage.objects.get()
    response = client.get(f"/cms/pages/add/marketplace/contentpage/{home.pk}/")
    assert response.status_code == 200
