"""/healthz: JSON naming each part, 200 when all is well, 503 when a part is down."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from marketplace import health
from marketplace.celery import app as celery_app

pytestmark = pytest.mark.django_db


class _DeadConnection:
    vendor = "postgresql"

    def cursor(self):
        raise OperationalError('connection to server at "127.0.0.1", port 1 failed: Connection refused')


def test_all_well_answers_200_with_every_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "celery", "search"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_broken_database_answers_503_naming_the_database(client, monkeypatch):
    monkeypatch.setattr(health, "connection", _DeadConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert "Connection refused" in body["checks"]["database"]["error"]
    assert body["checks"]["cache"]["ok"] is True


@pytest.fixture
def broker_on_a_closed_port():
    previous = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        celery_app.conf.task_always_eager = True


def test_a_broken_broker_answers_503_naming_celery(client, broker_on_a_closed_port):
    # The check fails fast on a dead broker rather than hanging.
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["celery"]["ok"] is False
    assert "127.0.0.1:1" in body["checks"]["celery"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_a_broken_cache_answers_503_naming_the_cache(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(health.cache, "set", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False


def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405


def test_the_footer_links_people_to_a_status_page_not_to_the_machine_check(client):
    home = client.get("/status/")
    assert 'href="/status/"' in home.content.decode()
    assert 'href="/healthz"' not in home.content.decode()


def test_the_status_page_says_in_words_which_part_is_down_and_hides_the_internals(client, monkeypatch):
    monkeypatch.setattr(health, "connection", _DeadConnection())
    response = client.get("/status/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "Some parts are not working" in page
    assert "Catalogue and orders database" in page
    assert "Not working" in page
    assert "Connection refused" not in page and "127.0.0.1" not in page


def test_the_status_page_when_all_is_well(client):
    response = client.get("/status/")
    assert response.status_code == 200
    assert "Every part of the service is working." in response.content.decode()
