"""The rounds pages, as the people who use them: a supplier proposes a round and the marketplace team
approves it in the back office; a trust's buyer finds it among the open rounds, joins, changes and
withdraws; the live figures move as another trust commits; at the close the supplier sees the
outcome and the orders, and the buyer finds its order. A trust outside the round's audience, or
another supplier, gets a 404; the lists cost the same queries however many rounds they show."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organisations.models import Role
from purchasing.rounds import services
from purchasing.rounds.models import Commitment, Round, RoundStatus
from tests.organisations.factories import TrustFactory, UserFactory, member
from tests.pricing.helpers import line
from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory, acting

ROUNDS = reverse("purchasing:rounds")
COMMITMENTS = reverse("purchasing:round-commitments")
SUPPLIER_ROUNDS = reverse("purchasing:rounds-supplier")
PROPOSE = reverse("purchasing:round-propose")
BACK_OFFICE = reverse("purchasing-rounds:index")
TIERS = [(10, Decimal("9.00")), (50, Decimal("8.00")), (100, Decimal("7.00"))]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def detail(round_) -> str:
    return reverse("purchasing:round", kwargs={"round_id": round_.pk})


def live(round_) -> str:
    return reverse("purchasing:round-live", kwargs={"round_id": round_.pk})


def proposed(market, *, title="Anti-embolism stockings, pooled", audience="all", invited=(), minimum=10):
    """Alpha Medical's round on its offer (list price £10.00 a pack), open from now for a week."""
    offer = market.offers[0]
    now = timezone.now()
    return services.round_propose(
        actor=market.staff[0],
        acting=acting(market.suppliers[0]),
        product=offer.product,
        offers=[offer],
        title=title,
        description="Knee-length, medium.",
        opens_at=now - dt.timedelta(minutes=1),
        closes_at=now + dt.timedelta(days=7),
        delivery_from=timezone.localdate() + dt.timedelta(days=14),
        delivery_to=timezone.localdate() + dt.timedelta(days=60),
        minimum_packs=minimum,
        tiers=TIERS,
        audience=audience,
        invited=invited,
    )


def opened(market, **kwargs) -> Round:
    return services.round_approve(round=proposed(market, **kwargs), actor=UserFactory(is_staff=True))


def other_trust_commits(market, round_, packs: int) -> Commitment:
    """Nottingham's buyer commits through the service, as the page or the API would."""
    trust = market.other_trust
    if not trust.delivery_sites.exists():
        DeliverySiteFactory(trust=trust)
        CostCentreFactory(trust=trust)
    return services.commitment_set(
        round=Round.objects.get(pk=round_.pk),
        actor=member(Role.BUYER, trust),
        acting=acting(trust),
        packs=packs,
    )


# --- Trusts ----------------------------------------------------------------------------------


def test_a_buyer_finds_an_open_round_joins_changes_and_withdraws(market):
    round_ = opened(market)
    buyer = signed_in(market.buyer)

    listing = text(buyer.get(ROUNDS))
    assert "Anti-embolism stockings, pooled" in listing and round_.reference in listing

    page = text(buyer.get(detail(round_)))
    assert "Your trust has not joined this round." in page
    assert "Join the round" in page

    joined = buyer.post(detail(round_), {"action": "commit", "packs": "20"})
    assert joined.status_code == 302 and joined.url == detail(round_)
    page = text(buyer.get(detail(round_)))
    assert f"Your trust joined with 20 packs in {round_.reference}." in page
    assert "Your trust commits <strong>20 packs</strong>" in page
    assert 'id="committed-packs">20<' in page
    assert "Change commitment" in page and "Withdraw your trust's commitment" in page

    buyer.post(detail(round_), {"action": "commit", "packs": "60"})
    page = text(buyer.get(detail(round_)))
    assert f"Your trust now commits 60 packs in {round_.reference}." in page
    assert 'id="price-now">£8.00<' in page  # the 50-pack tier

    withdrawn = buyer.post(detail(round_), {"action": "withdraw"})
    assert withdrawn.status_code == 302
    page = text(buyer.get(detail(round_)))
    assert "commitment to " + round_.reference + " is withdrawn" in page
    assert "Your trust withdrew its commitment" in page
    assert 'id="committed-packs">0<' in page
    commitment = Commitment.objects.get(round=round_, trust=market.trust)
    assert commitment.withdrawn_at is not None

    mine = text(buyer.get(COMMITMENTS))
    assert round_.reference in mine and "Withdrawn" in mine


def test_bad_packs_are_named_in_the_error_summary_and_nothing_is_committed(market):
    round_ = opened(market)
    buyer = signed_in(market.buyer)
    for packs in ("0", "1.5", "many", ""):
        answer = buyer.post(detail(round_), {"action": "commit", "packs": packs})
        assert answer.status_code == 400, packs
        assert 'href="#id_packs"' in text(answer)
    assert not Commitment.objects.exists()


def test_a_commitment_over_the_buyers_approval_limit_is_refused_on_the_packs_field(market):
    round_ = opened(market)
    buyer = signed_in(market.buyer)
    # 500 packs at the worst-case £9.00 is £4,500: over the default one-approver band.
    answer = buyer.post(detail(round_), {"action": "commit", "packs": "500"})
    assert answer.status_code == 400
    page = text(answer)
    assert 'href="#id_packs"' in page and "There is a problem" in page
    assert not Commitment.objects.exists()


def test_a_trust_outside_the_audience_finds_nothing_there(market):
    round_ = opened(market, audience="invited", invited=[market.other_trust])
    buyer = signed_in(market.buyer)
    assert round_.reference not in text(buyer.get(ROUNDS))
    assert buyer.get(detail(round_)).status_code == 404
    assert buyer.get(live(round_)).status_code == 404
    assert buyer.post(detail(round_), {"action": "commit", "packs": "5"}).status_code == 404
    assert not Commitment.objects.exists()
    # Nor does a supplier that has no part in it see it on its side.
    stranger = signed_in(market.staff[1])
    assert (
        stranger.get(reverse("purchasing:round-supplier", kwargs={"round_id": round_.pk})).status_code == 404
    )
    assert round_.reference not in text(stranger.get(SUPPLIER_ROUNDS))


def test_a_proposed_round_is_not_open_to_trusts_until_the_back_office_approves_it(market):
    round_ = proposed(market)
    buyer = signed_in(market.buyer)
    assert round_.reference not in text(buyer.get(ROUNDS))
    assert buyer.get(detail(round_)).status_code == 404


def test_the_live_fragment_shows_the_tier_the_next_tier_the_prices_and_the_time_left(market):
    round_ = opened(market)
    # Leeds last paid £11.00 a pack for the product.
    line(market.trust, market.offers[0].product, packs="10", pack_price="11.00")
    buyer = signed_in(market.buyer)
    buyer.post(detail(round_), {"action": "commit", "packs": "30"})

    fragment = text(buyer.get(live(round_)))
    assert 'id="committed-packs">30<' in fragment
    assert "From 10 packs: £9.00 a pack" in fragment  # the tier reached
    assert "From 50 packs: £8.00 a pack, <strong>20 more packs</strong> needed" in fragment
    assert 'id="price-now">£9.00<' in fragment
    assert 'id="saving-vs-list">£1.00<' in fragment  # against the £10.00 list price
    assert 'id="saving-vs-last-paid">£2.00<' in fragment  # against the £11.00 Leeds paid
    assert re.search(r'id="time-left">6 days 23 hours', fragment)
    assert "<svg" in fragment and "30 packs committed" in fragment

    other_trust_commits(market, round_, 25)
    fragment = text(buyer.get(live(round_)))
    assert 'id="committed-packs">55<' in fragment
    assert 'id="price-now">£8.00<' in fragment
    assert "From 100 packs: £7.00 a pack, <strong>45 more packs</strong> needed" in fragment
    assert 'id="saving-vs-last-paid">£3.00<' in fragment


def test_the_round_page_polls_its_fragment_with_a_script_from_this_site(market):
    round_ = opened(market)
    page = signed_in(market.buyer).get(detail(round_)).content.decode()
    assert f'data-live-url="{live(round_)}"' in page
    assert 'data-poll-seconds="5"' in page
    assert re.search(r'<script src="[^"]*purchasing/round-live\.js" defer>', page)


def test_after_the_close_the_buyer_finds_the_order_at_the_pooled_price(market):
    round_ = opened(market)
    signed_in(market.buyer).post(detail(round_), {"action": "commit", "packs": "40"})
    other_trust_commits(market, round_, 20)
    closed = services.round_close(round_id=round_.pk, now=round_.closes_at + dt.timedelta(seconds=1))
    assert closed.status == RoundStatus.CLOSED_MET

    commitment = Commitment.objects.select_related("order").get(round=round_, trust=market.trust)
    page = text(signed_in(market.buyer).get(detail(round_)))
    assert (
        f'Your purchase order: <a href="{reverse("purchasing:order", args=[commitment.order.pk])}">' in page
    )
    assert "Join the round" not in page and 'data-poll-seconds="0"' in page
    mine = text(signed_in(market.buyer).get(COMMITMENTS))
    assert commitment.order.number in mine and "£8.00" in mine


# --- Suppliers and the back office ------------------------------------------------------------


def propose_form(market, **changes) -> dict:
    now = timezone.localtime()
    data = {
        "offer": market.offers[0].pk,
        "title": "Stockings for the winter",
        "description": "",
        "opens_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "delivery_from": (now.date() + dt.timedelta(days=20)).isoformat(),
        "delivery_to": (now.date() + dt.timedelta(days=50)).isoformat(),
        "minimum_packs": "100",
        "audience": "all",
        "region": "",
        "tier_1_packs": "100",
        "tier_1_price": "9.50",
        "tier_2_packs": "500",
        "tier_2_price": "8.75",
    }
    data.update(changes)
    return data


def test_a_supplier_proposes_a_round_and_the_back_office_approves_it(market):
    supplier = signed_in(market.staff[0])
    form = text(supplier.get(PROPOSE))
    assert market.offers[0].product.name in form
    assert market.offers[1].product.name not in form  # another supplier's offer

    answer = supplier.post(PROPOSE, propose_form(market))
    round_ = Round.objects.get()
    assert answer.status_code == 302
    assert answer.url == reverse("purchasing:round-supplier", kwargs={"round_id": round_.pk})
    assert round_.status == RoundStatus.PROPOSED
    assert [(t.min_packs, t.pack_price) for t in round_.tiers.order_by("min_packs")] == [
        (100, Decimal("9.50")),
        (500, Decimal("8.75")),
    ]
    page = text(supplier.get(answer.url))
    assert "The marketplace team has still to approve it." in page

    staff = signed_in(UserFactory(is_staff=True, is_superuser=True))
    queue = text(staff.get(BACK_OFFICE))
    assert f'data-round="{round_.reference}"' in queue and "Stockings for the winter" in queue
    approved = staff.post(reverse("purchasing-rounds:approve", kwargs={"pk": round_.pk}))
    assert approved.status_code == 302
    round_.refresh_from_db()
    assert round_.status == RoundStatus.OPEN and round_.approved_by is not None
    assert f'data-round="{round_.reference}"' not in text(staff.get(BACK_OFFICE))


def test_the_back_office_rejects_with_a_reason_and_only_staff_decide(market):
    round_ = proposed(market)
    staff = signed_in(UserFactory(is_staff=True, is_superuser=True))
    reject = reverse("purchasing-rounds:reject", kwargs={"pk": round_.pk})
    answer = staff.post(reject, {"reason": ""})
    assert answer.status_code == 200 and "This field is required." in text(answer)
    staff.post(reject, {"reason": "Tiers do not fall enough to be worth pooling."})
    round_.refresh_from_db()
    assert round_.status == RoundStatus.REJECTED
    page = text(signed_in(market.staff[0]).get(reverse("purchasing:round-supplier", args=[round_.pk])))
    assert "Tiers do not fall enough to be worth pooling." in page

    other = proposed(market, title="Second try")
    for user in (market.buyer, market.staff[0]):
        client = signed_in(user)
        assert client.post(reverse("purchasing-rounds:approve", kwargs={"pk": other.pk})).status_code in (
            302,
            403,
        )
    other.refresh_from_db()
    assert other.status == RoundStatus.PROPOSED


def test_propose_errors_name_their_fields(market):
    supplier = signed_in(market.staff[0])
    answer = supplier.post(PROPOSE, propose_form(market, tier_2_price="9.90", minimum_packs="0"))
    assert answer.status_code == 400
    page = text(answer)
    assert 'href="#id_minimum_packs"' in page
    answer = supplier.post(PROPOSE, propose_form(market, tier_2_price="9.90"))  # does not fall
    assert answer.status_code == 400
    assert 'href="#id_tier_1_packs"' in text(answer) or 'href="#id_tier_2_price"' in text(answer)
    answer = supplier.post(PROPOSE, propose_form(market, tier_2_price=""))
    assert 'href="#id_tier_2_price">Give tier 2 both a number of packs and a price, or neither.' in text(
        answer
    )
    answer = supplier.post(PROPOSE, propose_form(market, offer=market.offers[1].pk))  # not its own
    assert answer.status_code == 400 and 'href="#id_offer"' in text(answer)
    assert not Round.objects.exists()


def test_a_supplier_invites_trusts_and_only_they_see_the_round(market):
    supplier = signed_in(market.staff[0])
    data = propose_form(market, audience="invited", invited=[market.other_trust.pk])
    data["opens_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert supplier.post(PROPOSE, data).status_code == 302
    round_ = Round.objects.get()
    assert list(round_.invited.all()) == [market.other_trust]
    services.round_approve(round=round_, actor=UserFactory(is_staff=True))
    assert signed_in(market.buyer).get(detail(round_)).status_code == 404
    nottingham = signed_in(member(Role.BUYER, market.other_trust))
    assert round_.reference in text(nottingham.get(ROUNDS))


def test_an_audience_error_links_to_its_group_of_choices(market):
    supplier = signed_in(market.staff[0])
    answer = supplier.post(PROPOSE, propose_form(market, audience="region", region=""))
    assert answer.status_code == 400
    page = text(answer)
    assert re.search(r'href="#id_(region|audience)"', page)
    answer = supplier.post(PROPOSE, propose_form(market, audience="invited"))
    page = text(answer)
    assert answer.status_code == 400 and re.search(r'href="#id_(invited|audience)"', page)
    assert 'id="id_invited"' in page and 'id="id_audience"' in page
    assert not Round.objects.exists()


def test_the_supplier_follows_its_round_to_the_outcome_and_the_orders(market):
    round_ = opened(market)
    signed_in(market.buyer).post(detail(round_), {"action": "commit", "packs": "30"})
    other_trust_commits(market, round_, 25)
    supplier = signed_in(market.staff[0])
    follow = reverse("purchasing:round-supplier", kwargs={"round_id": round_.pk})
    page = text(supplier.get(follow))
    assert market.trust.name in page and market.other_trust.name in page
    assert 'id="committed-packs">55<' in page

    services.round_close(round_id=round_.pk, now=round_.closes_at + dt.timedelta(seconds=1))
    page = text(supplier.get(follow))
    assert 'id="final-price">£8.00<' in page
    for commitment in Commitment.objects.filter(round=round_).select_related("order"):
        assert commitment.order.number in page
        assert reverse("purchasing:supplier-order", args=[commitment.order.pk]) in page
    listing = text(supplier.get(SUPPLIER_ROUNDS))
    assert round_.reference in listing and "Closed: minimum met" in listing


def test_a_round_that_misses_its_minimum_says_so_and_orders_nothing(market):
    round_ = opened(market, minimum=100)
    signed_in(market.buyer).post(detail(round_), {"action": "commit", "packs": "30"})
    services.round_close(round_id=round_.pk, now=round_.closes_at + dt.timedelta(seconds=1))
    page = text(signed_in(market.staff[0]).get(reverse("purchasing:round-supplier", args=[round_.pk])))
    assert "The minimum of 100 packs was not reached" in page
    assert not Commitment.objects.filter(order__isnull=False).exists()


# --- Query counts ----------------------------------------------------------------------------


def test_the_lists_cost_the_same_queries_however_many_rounds(market, django_assert_max_num_queries):
    buyer, supplier = signed_in(market.buyer), signed_in(market.staff[0])
    staff = signed_in(UserFactory(is_staff=True, is_superuser=True))
    for index in range(6):
        round_ = opened(market, title=f"Round {index}")
        other_trust_commits(market, round_, 5)
        buyer.post(detail(round_), {"action": "commit", "packs": "3"})
        proposed(market, title=f"Waiting {index}")
    # Each page: the session, the user and the acting lookups, then its own few reads. The live
    # fragment, polled every 5 s by every open round page, stays at 11.
    pages = [
        (buyer, ROUNDS, 8),
        (buyer, COMMITMENTS, 6),
        (supplier, SUPPLIER_ROUNDS, 8),
        (buyer, detail(round_), 13),
        (buyer, live(round_), 11),
        (supplier, reverse("purchasing:round-supplier", args=[round_.pk]), 10),
        (staff, BACK_OFFICE, 14),  # the proposed rounds, and the open ones (to cancel): 2 more
    ]
    for client, url, limit in pages:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_more_trusts_in_the_audience_do_not_cost_more_on_the_propose_page(
    market, django_assert_max_num_queries
):
    supplier = signed_in(market.staff[0])
    for _ in range(10):
        TrustFactory()
    with django_assert_max_num_queries(6):
        assert supplier.get(PROPOSE).status_code == 200


# --- Demo ------------------------------------------------------------------------------------


def test_the_demo_buyer_of_leeds_lands_on_an_open_round_to_join_and_a_closed_one_with_its_order(db):
    import io

    from catalogue import demo as catalogue_demo
    from organisations import demo as organisations_demo
    from organisations.models import User
    from purchasing import demo as purchasing_demo
    from purchasing.rounds import demo as rounds_demo

    for module in (organisations_demo, catalogue_demo, purchasing_demo):
        module.seed(io.StringIO())
    open_round = Round.objects.get(title=rounds_demo.OPEN_TITLE)
    closed_round = Round.objects.get(title=rounds_demo.CLOSED_TITLE)
    assert open_round.status == RoundStatus.OPEN
    assert closed_round.status == RoundStatus.CLOSED_MET
    assert open_round.committed_packs == 55
    assert sorted(open_round.commitments.values_list("trust__ods_code", flat=True)) == ["RCB", "RJ1"]
    assert closed_round.commitments.filter(order__isnull=False).count() == 3

    buyer = Client()
    buyer.force_login(User.objects.get(email="buyer@leeds.demo.example"))
    start = text(buyer.get(reverse("start")))
    assert f'href="{ROUNDS}"' in start
    listing = text(buyer.get(ROUNDS))
    assert rounds_demo.OPEN_TITLE in listing
    page = text(buyer.get(detail(open_round)))
    assert "Your trust has not joined this round." in page
    assert 'id="committed-packs">55<' in page and "25 more packs</strong> needed" in page  # one tier left
    mine = text(buyer.get(COMMITMENTS))
    leeds_order = closed_round.commitments.get(trust__ods_code="RR8").order
    assert rounds_demo.CLOSED_TITLE in mine and leeds_order.number in mine

    # Leeds's trust admin follows the round Leeds proposed, waiting for the marketplace team; York
    # finds its commitment to the cancelled round ended, with the reason.
    proposed = Round.objects.get(title=rounds_demo.TRUST_TITLE)
    assert (proposed.status, proposed.proposed_by_organisation.ods_code) == (RoundStatus.PROPOSED, "RR8")
    admin = Client()
    admin.force_login(User.objects.get(email="trust.admin@leeds.demo.example"))
    assert rounds_demo.TRUST_TITLE in text(admin.get(reverse("purchasing:round-propose-trust")))
    cancelled = Round.objects.get(title=rounds_demo.CANCELLED_TITLE)
    assert (cancelled.status, cancelled.committed_packs) == (RoundStatus.CANCELLED, 0)
    york = Client()
    york.force_login(User.objects.get(email="buyer@yorkshire.demo.example"))
    york_page = text(york.get(detail(cancelled), headers={"X-Acting-Organisation": "RCB"}))
    assert "recall of this batch" in york_page and 'id="commitment-ended"' in york_page

    # Seeding again tells no round twice.
    purchasing_demo.seed(io.StringIO())
    assert Round.objects.count() == 4
