"""The rounds API, as a supplier's and a trust's systems use it: propose, list, read the live figures,
commit, change, withdraw; scoped to the organisation the request acts for."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework.test import APIClient

from organisations.models import Region
from purchasing.models import Commitment, Round, RoundAudience, RoundStatus
from purchasing.rounds import services
from tests.purchasing.rounds.factories import round_on


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_supplier_proposes_a_round_through_the_api(pool):
    now = timezone.now()
    body = {
        "product": pool.offer.product_id,
        "offers": [pool.offer.pk],
        "title": "Winter stockings",
        "opens_at": now.isoformat(),
        "closes_at": (now + dt.timedelta(days=10)).isoformat(),
        "delivery_from": (timezone.localdate() + dt.timedelta(days=11)).isoformat(),
        "delivery_to": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        "minimum_packs": 100,
        "tiers": [{"min_packs": 100, "pack_price": "9.00"}, {"min_packs": 300, "pack_price": "8.50"}],
        "audience": "region",
        "region": Region.LONDON,
    }
    client = api_as(pool.supplier_staff)

    made = client.post("/api/v1/rounds/", body, format="json")

    assert made.status_code == 201, made.json()
    data = made.json()
    assert (data["status"], data["reference"], data["audience"]) == (
        "proposed",
        f"RND-{data['id']:06d}",
        "region",
    )
    assert data["tiers"] == [
        {"min_packs": 100, "pack_price": "9.00"},
        {"min_packs": 300, "pack_price": "8.50"},
    ]
    assert data["live"]["worst_case_pack_price"] == "9.00"

    bad = client.post(
        "/api/v1/rounds/",
        {
            **body,
            "tiers": [{"min_packs": 100, "pack_price": "9.00"}, {"min_packs": 300, "pack_price": "9.50"}],
        },
        format="json",
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "tiers")
    assert Round.objects.count() == 1


def test_a_trust_lists_reads_joins_changes_and_withdraws(pool):
    stockings = round_on(pool.offer)
    round_on(pool.offer, status=RoundStatus.PROPOSED)  # not approved: not shown to trusts
    leeds = pool.leeds
    client = api_as(leeds.approver)

    listed = client.get("/api/v1/rounds/")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [stockings.pk]

    joined = client.post(f"/api/v1/rounds/{stockings.pk}/commitments/", {"packs": 150}, format="json")
    assert joined.status_code == 201, joined.json()
    assert (joined.json()["packs"], joined.json()["withdrawn"]) == (150, False)

    changed = client.post(f"/api/v1/rounds/{stockings.pk}/commitments/", {"packs": 220}, format="json")
    assert (changed.status_code, changed.json()["packs"]) == (200, 220)

    live = client.get(f"/api/v1/rounds/{stockings.pk}/").json()["live"]
    assert (live["committed_packs"], live["tier_reached"], live["next_tier"]) == (
        220,
        {"min_packs": 200, "pack_price": "8.00"},
        {"min_packs": 500, "pack_price": "7.00"},
    )
    assert (live["price_now"], live["saving_vs_list"], live["packs_to_next_tier"]) == ("8.00", "2.00", 280)
    assert live["your_commitment"]["packs"] == 220

    bad = client.post(f"/api/v1/rounds/{stockings.pk}/commitments/", {"packs": 2.5}, format="json")
    assert (bad.status_code, bad.json()["field"]) == (400, "packs")

    withdrawn = client.delete(f"/api/v1/rounds/{stockings.pk}/commitments/")
    assert (withdrawn.status_code, withdrawn.json()["withdrawn"]) == (200, True)
    stockings.refresh_from_db()
    assert stockings.committed_packs == 0


def test_after_the_close_a_commitment_is_a_conflict_and_the_supplier_sees_the_orders(pool):
    stockings = round_on(pool.offer)
    leeds = pool.leeds
    client = api_as(leeds.approver)
    client.post(f"/api/v1/rounds/{stockings.pk}/commitments/", {"packs": 120}, format="json")
    Round.objects.filter(pk=stockings.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))

    late = client.post(f"/api/v1/rounds/{stockings.pk}/commitments/", {"packs": 130}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "round_closed")

    services.rounds_close_due()
    seen = api_as(pool.supplier_staff).get(f"/api/v1/rounds/{stockings.pk}/commitments/").json()
    assert [(c["trust"]["name"], c["packs"], c["order"]) for c in seen] == [
        (leeds.organisation.name, 120, "RR8-PO-000001")
    ]
    detail = api_as(pool.supplier_staff).get(f"/api/v1/rounds/{stockings.pk}/").json()
    assert (detail["status"], detail["final_pack_price"]) == ("closed_met", "9.00")


def test_a_round_outside_the_trusts_audience_is_a_404(pool):
    london = round_on(pool.offer, audience=RoundAudience.REGION, region=Region.LONDON)
    leeds = pool.leeds  # in North East and Yorkshire
    client = api_as(leeds.approver)
    assert client.get(f"/api/v1/rounds/{london.pk}/").status_code == 404
    refused = client.post(f"/api/v1/rounds/{london.pk}/commitments/", {"packs": 10}, format="json")
    assert refused.status_code == 404
    assert not Commitment.objects.exists()
    assert client.get("/api/v1/rounds/").json()["results"] == []


def test_the_round_list_reads_in_a_fixed_number_of_queries(pool, django_assert_max_num_queries):
    for _ in range(6):
        round_on(pool.offer)
    client = api_as(pool.leeds.buyer)
    with django_assert_max_num_queries(12):
        answer = client.get("/api/v1/rounds/")
    assert len(answer.json()["results"]) == 6
