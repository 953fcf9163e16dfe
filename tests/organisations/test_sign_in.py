"""Signing in and out: one message for any wrong detail, lockout after repeated failures, all audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from common.models import AuditEvent
from organisations import services as org_services
from organisations.models import Role
from tests.organisations.factories import TrustFactory, UserFactory, member

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("organisations:sign-in")
WRONG = "Enter a correct email address and password."


def sign_in(client, email: str, password: str, **extra):
    return client.post(SIGN_IN, {"username": email, "password": password, **extra})


def sign_in_from(client, email: str, password: str, **meta):
    """Sign in with request headers or a client address (REMOTE_ADDR) set."""
    return client.post(SIGN_IN, {"username": email, "password": password}, **meta)


def events(kind: str):
    return AuditEvent.objects.filter(kind=kind)


def test_a_buyer_signs_in_with_their_email_and_reaches_their_start_page(client, password):
    buyer = member(
        Role.BUYER, TrustFactory(name="Leeds Teaching Hospitals NHS Trust"), email="beth@leeds.example"
    )
    response = sign_in(client, "Beth@Leeds.example", password)
    assert response.status_code == 302
    assert response["Location"] == reverse("start")
    start = client.get(response["Location"])
    assert "Buyer at Leeds Teaching Hospitals NHS Trust" in start.content.decode()
    event = events(org_services.SIGNED_IN).get()
    assert event.actor == buyer
    assert event.ip_address == "127.0.0.1"


def test_sign_in_returns_to_the_page_asked_for(client, password):
    UserFactory(email="beth@leeds.example")
    response = sign_in(client, "beth@leeds.example", password, next="/accounts/organisations/1/")
    assert response["Location"] == "/accounts/organisations/1/"


@pytest.mark.parametrize(
    ("email", "attempt"),
    [("beth@leeds.example", "wrong-password"), ("nobody@leeds.example", "correct-horse-battery-staple")],
    ids=["wrong password", "unknown email"],
)
def test_wrong_details_say_so_without_saying_which_part(client, email, attempt):
    UserFactory(email="beth@leeds.example")
    response = sign_in(client, email, attempt)
    assert response.status_code == 200
    page = response.content.decode()
    assert WRONG in page
    assert "There is a problem" in page
    assert f'<a href="#id_username">{WRONG}</a>' in page  # the summary leads to the first field
    assert "Unknown" not in page and "not registered" not in page
    assert not response.wsgi_request.user.is_authenticated
    failed = events(org_services.SIGN_IN_FAILED).get()
    assert failed.actor is None
    assert failed.actor_identifier == email


def test_an_inactive_account_gets_the_same_message(client, password):
    UserFactory(email="left@leeds.example", is_active=False)
    response = sign_in(client, "left@leeds.example", password)
    assert WRONG in response.content.decode()


def test_the_sign_in_form_is_styled_and_marks_errors_in_the_nhs_pattern(client):
    page = client.get(SIGN_IN).content.decode()
    assert 'class="nhsuk-input"' in page
    assert 'autocomplete="email"' in page
    assert 'autocomplete="current-password"' in page
    response = client.post(SIGN_IN, {"username": "", "password": ""})
    page = response.content.decode()
    assert "nhsuk-form-group--error" in page
    assert "nhsuk-input nhsuk-input--error" in page
    assert 'aria-describedby="id_username-error"' in page
    assert "Enter your email address" in page


def test_repeated_failures_lock_the_account_out(client, password):
    UserFactory(email="beth@leeds.example")
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert sign_in(client, "beth@leeds.example", "guess").status_code == 200
    locked = sign_in(client, "beth@leeds.example", "guess")
    assert locked.status_code == 429
    assert "Your account is locked for now" in locked.content.decode()
    assert "organisations/locked_out.html" in [t.name for t in locked.templates]
    # Even the right password is refused while locked, and nobody is signed in.
    again = sign_in(client, "BETH@leeds.example", password)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    assert events(org_services.LOCKED_OUT).filter(actor_identifier="beth@leeds.example").count() >= 1
    assert events(org_services.SIGN_IN_FAILED).count() >= limit


def test_signing_out_is_a_post_and_is_audited(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("organisations:sign-out")).status_code == 405
    response = client.post(reverse("organisations:sign-out"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert events(org_services.SIGNED_OUT).get().actor == user


def test_the_header_offers_sign_out_to_a_signed_in_user(client):
    client.force_login(UserFactory(full_name="Beth Buyer"))
    page = client.get(reverse("start")).content.decode()
    assert 'action="/accounts/sign-out/" method="post"' in page
    assert "Beth" in page


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    UserFactory(email="beth@leeds.example")
    response = client.post(reverse("organisations:password-reset"), {"email": "beth@leeds.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert "Set a new password" in form_page.content.decode()
    assert 'class="nhsuk-input"' in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert done.status_code == 302
    assert events(org_services.PASSWORD_RESET).get().actor.email == "beth@leeds.example"
    assert sign_in(client, "beth@leeds.example", "a-new-long-passphrase").status_code == 302


def test_password_reset_does_not_reveal_whether_an_account_exists(client):
    response = client.post(reverse("organisations:password-reset"), {"email": "nobody@leeds.example"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_one_persons_typos_do_not_lock_out_colleagues_behind_the_same_address(client, password):
    """A trust's staff share one address behind its NAT: Beth's lockout is Beth's alone."""
    UserFactory(email="beth@leeds.example")
    UserFactory(email="sam@leeds.example")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "beth@leeds.example", "guess")
    assert sign_in(client, "beth@leeds.example", password).status_code == 429
    assert sign_in(client, "sam@leeds.example", password).status_code == 302


def test_a_stranger_elsewhere_cannot_lock_an_account_out_from_its_owner(client, password):
    UserFactory(email="beth@leeds.example")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(client, "beth@leeds.example", "guess", REMOTE_ADDR="203.0.113.9")
    assert sign_in_from(client, "beth@leeds.example", password, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert sign_in_from(client, "beth@leeds.example", password, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_an_address_spraying_guesses_across_accounts_is_locked_at_a_higher_limit(client, password, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 8
    UserFactory(email="victim@leeds.example")
    for i in range(7):
        assert sign_in(client, f"person{i}@leeds.example", "guess").status_code == 200
    # The eighth failure, on an eighth account, locks the address: every account has failed once.
    assert sign_in(client, "person7@leeds.example", "guess").status_code == 429
    assert sign_in(client, "victim@leeds.example", password).status_code == 429
    elsewhere = sign_in_from(client, "victim@leeds.example", password, REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 302


def test_a_forged_forwarded_header_does_not_escape_the_lockout(client, password):
    """With no proxies declared (NUM_PROXIES=0), X-Forwarded-For is the attacker's own words."""
    UserFactory(email="beth@leeds.example")
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(client, "beth@leeds.example", "guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    locked = sign_in_from(client, "beth@leeds.example", password, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert locked.status_code == 429


def test_behind_a_declared_proxy_the_address_is_the_one_the_proxy_saw(client, password, settings):
    settings.NUM_PROXIES = 1
    UserFactory(email="beth@leeds.example")
    sign_in_from(client, "beth@leeds.example", password, HTTP_X_FORWARDED_FOR="10.0.0.1, 192.0.2.44")
    assert events(org_services.SIGNED_IN).get().ip_address == "192.0.2.44"
