"""Stripe's HTTP layer answered by recorded responses; the `stripe` library itself runs.

`RecordedStripe` is a `stripe.HTTPClient`: the library hands it each request exactly as it would
send it to api.stripe.com (method, URL, headers, form-encoded body) and gets back a recorded JSON
body (tests/payments/recorded/, Stripe's own shapes). It keeps every request, so a test checks
what was asked of Stripe: idempotency keys, amounts in pence, metadata. As Stripe does, a repeated
idempotency key with the same parameters is answered with the first answer (and a different body
under the same key is refused), so retries behave as they would against the real API.

`sign` signs a webhook body with Stripe's scheme: `t=<unix time>,v1=<HMAC-SHA256(secret, f"{t}.{body}")>`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import stripe

RECORDED = Path(__file__).parent / "recorded"
_ids = itertools.count(1)


def recorded(name: str, **overrides) -> dict:
    """A recorded Stripe object (recorded/<name>.json) with some top-level fields changed."""
    body = json.loads((RECORDED / f"{name}.json").read_text())
    body.update(copy.deepcopy(overrides))
    return body


def intent_id() -> str:
    return f"pi_3QxK9vLkdIwHu7ix{next(_ids):010d}"


def payment_intent(**overrides) -> dict:
    """A PaymentIntent as Stripe answers it; a succeeded one has received its amount and has a charge."""
    body = recorded("payment_intent", **overrides)
    body["client_secret"] = f"{body['id']}_secret_Vd8kq2mLrT0pXy4bN6cHjW1aZ"
    if body["status"] == "succeeded" and "amount_received" not in overrides:
        body["amount_received"] = body["amount"]
    if body["status"] == "succeeded" and "latest_charge" not in overrides:
        body["latest_charge"] = body["id"].replace("pi_", "ch_")
    if body["status"] == "canceled" and "canceled_at" not in overrides:
        body["canceled_at"] = body["created"] + 1800
        body["cancellation_reason"] = body.get("cancellation_reason") or "abandoned"
    return body


def charge(intent: dict, **overrides) -> dict:
    return recorded(
        "charge",
        id=intent["id"].replace("pi_", "ch_"),
        payment_intent=intent["id"],
        amount=intent["amount"],
        amount_captured=intent["amount"],
        **overrides,
    )


def refund(intent: dict, amount: int, number: int = 1, **overrides) -> dict:
    return recorded(
        "refund",
        id=intent["id"].replace("pi_", "re_") + f"r{number}",
        payment_intent=intent["id"],
        charge=intent["id"].replace("pi_", "ch_"),
        amount=amount,
        **overrides,
    )


def event(event_type: str, obj: dict, *, number: int = 1, created: int | None = None) -> dict:
    """A webhook event carrying `obj` (a snapshot of the object), as Stripe posts it."""
    return recorded(
        "event",
        id=f"evt_{obj['id'].split('_', 1)[1]}{event_type.replace('.', '_')}{number}",
        type=event_type,
        created=created or obj.get("created", 1796557862),
        data={"object": obj},
    )


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


@dataclass(frozen=True)
class StripeRequest:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    headers: dict[str, str] = field(repr=False)


class RecordedStripe(stripe.HTTPClient):
    name = "recorded"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[StripeRequest] = []
        self._answers: dict[tuple[str, str], deque[tuple[dict, int]]] = defaultdict(deque)
        self._by_key: dict[str, tuple[dict[str, str], dict, int]] = {}
        self._lock = threading.Lock()  # tests may call from several threads at once

    def answer(self, method: str, path: str, body: dict, status: int = 200) -> None:
        """Stripe's next answer to `method path` (answers are given in the order queued)."""
        self._answers[(method.upper(), path)].append((body, status))

    def requests_to(self, method: str, path: str) -> list[StripeRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        with self._lock:
            return self._answer(method, url, headers, post_data)

    def _answer(self, method, url, headers, post_data):
        parts = urlsplit(url)
        assert parts.netloc == "api.stripe.com", url
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or parts.query)
        params = dict(parse_qsl(raw, keep_blank_values=True))
        headers = dict(headers or {})
        key = headers.get("Idempotency-Key")
        self.requests.append(StripeRequest(method.upper(), parts.path, params, key, headers))
        if key and method.upper() == "POST" and key in self._by_key:
            first_params, body, status = self._by_key[key]
            if first_params != params:
                body, status = _idempotency_error(key), 400
            return json.dumps(body), status, {"Request-Id": "req_replay", "Idempotent-Replayed": "true"}
        queued = self._answers.get((method.upper(), parts.path))
        if not queued:
            raise AssertionError(
                f"Stripe was asked {method.upper()} {parts.path}, which no test answer expects"
            )
        body, status = queued.popleft()
        if key and method.upper() == "POST":
            self._by_key[key] = (params, body, status)
        return json.dumps(body), status, {"Request-Id": f"req_{next(_ids):014d}"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        # Streamed answers (file downloads) are never asked for by the payments code.
        raise AssertionError(f"Stripe was asked to stream {method.upper()} {url}, which no test records")

    def close(self) -> None:
        pass


def _idempotency_error(key: str) -> dict:
    return {
        "error": {
            "message": (
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request."
            ),
            "type": "idempotency_error",
        }
    }
