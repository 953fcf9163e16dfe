"""Top-up tests: the personal budgets' world (tests/personal_budgets/conftest.py) with Stripe's test
keys set and Stripe's HTTP layer answered by the recorded client of tests/payments/stripe_http.py
(the `stripe` library itself runs)."""

from __future__ import annotations

from tests.payments.conftest import stripe_http, stripe_keys  # noqa: F401 (fixtures)
