"""The clients bench/load.py starts locust with (not run on its own: load.py writes the plan it reads).

Each client is one of the signed-in demo users (the sessions and API tokens load.py obtained through the
sign-in page and the token endpoint) and requests one kind of page, chosen with locust's `--tags`, as
fast as the server answers. A page counts as an error unless it answers 200 and, for the HTML pages,
shows the user signed in: a redirect to the sign-in page would otherwise pass for a fast page.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant, tag, task

PLAN = json.loads(open(os.environ["LOAD_BENCH_PLAN"], encoding="utf-8").read())  # noqa: SIM115
# Clients take the demo users in turn, so every user's session carries part of the load.
_accounts = itertools.cycle(PLAN["accounts"])
SIGNED_IN_MARK = "/accounts/sign-out/"
# Unit price bounds (pounds) a filtered category page is asked for with.
PRICE_BOUNDS = ("0.5", "1", "2", "5", "10", "20", "50", "100")


class Buyer(FastHttpUser):
    wait_time = constant(0)
    # Loopback only; the server is gunicorn with the production settings behind an imagined TLS
    # load balancer, which says so in X-Forwarded-Proto (the settings trust it).
    connection_timeout = 30.0
    network_timeout = 90.0

    def on_start(self) -> None:
        account = next(_accounts)
        self.rng = random.Random(account["email"] + str(id(self)))
        # The session and CSRF cookies are Secure, so a client speaking plain HTTP to the loopback
        # would never send them back: they go in the header, as the browser would over HTTPS.
        self.page_headers = {"X-Forwarded-Proto": "https", "Cookie": account["cookie"]}
        self.api_headers = {
            "X-Forwarded-Proto": "https",
            "Authorization": f"Token {account['token']}",
            "Accept": "application/json",
        }

    def _get(self, url: str, name: str, *, api: bool = False) -> None:
        headers = self.api_headers if api else self.page_headers
        with self.client.get(
            url, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif not api and SIGNED_IN_MARK not in (response.text or ""):
                response.failure("answered, but not signed in")
            elif api and "results" not in (response.text or ""):
                response.failure("no results in the API's answer")
            elif api and '"results":[]' in (response.text or "").replace(" ", ""):
                # Every page asked for lies within the catalogue: an empty one is a broken list.
                response.failure("an empty page of products")

    @tag("category")
    @task
    def category(self) -> None:
        self._get(f"/catalogue/categories/{self.rng.choice(PLAN['categories'])}/", "category")

    @tag("filtered")
    @task
    def filtered_category(self) -> None:
        bound = self.rng.choice(PRICE_BOUNDS)
        stock = "&stock=in_stock" if self.rng.random() < 0.5 else ""
        category = self.rng.choice(PLAN["categories"])
        self._get(f"/catalogue/categories/{category}/?unit_price_max={bound}{stock}", "filtered")

    @tag("product")
    @task
    def product(self) -> None:
        self._get(f"/catalogue/products/{self.rng.choice(PLAN['products'])}/", "product")

    @tag("search")
    @task
    def search(self) -> None:
        self._get(f"/search/?q={self.rng.choice(PLAN['queries'])}", "search")

    @tag("api")
    @task
    def api_products(self) -> None:
        self._get(f"/api/v1/products/?page={self.rng.randint(1, PLAN['api_pages'])}", "api", api=True)
