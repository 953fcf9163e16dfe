"""The search results page and the autocomplete fragment behind the header search box."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from catalogue.caching import catalogue_cached
from catalogue.filters import filter_params
from catalogue.indexing import PRODUCT_DOCUMENT
from catalogue.panels import card_actions
from catalogue.search import selectors as search_selectors
from catalogue.search.forms import FILTERS, MAX_PAGE, PAGE_SIZE, SORT_CHOICES, SearchForm
from organisations.acting import acting_for
from organisations.models import OrganisationKind
from search import selectors
from search.types import InvalidSearch, SearchUnavailable


def _page_numbers(page: int, last: int) -> dict:
    return {
        "number": page,
        "last": last,
        "previous": page - 1 if page > 1 else None,
        "next": page + 1 if page < last else None,
    }


def _selected_filters(filters: dict[str, list[str]], facets: dict) -> list[dict]:
    """The filters in use, with names, each with a link that removes it."""
    labels: dict[str, dict[str, str]] = {
        name: {
            **PRODUCT_DOCUMENT.facet(name).value_labels,
            **{f.value: f.label for f in facets.get(name, [])},
        }
        for name in FILTERS
    }
    labels["category"].update(search_selectors.category_names(filters.get("category", [])))
    return [
        {"name": name, "value": value, "label": labels[name].get(value) or value}
        for name in FILTERS
        for value in filters.get(name, [])
    ]


def _page(request: HttpRequest, context: dict, *, body: SafeString | None = None, status: int = 200):
    """The page: its content rendered here unless given (with the query string, not the context
    processors: the content shows no user, token or message), inside the site's layout."""
    if body is None:
        body = _page_body(request, context)
    return render(request, "catalogue/search/results.html", {**context, "body_html": body}, status=status)


def _actions_mark(product_id: int) -> SafeString:
    """Where a card's actions go in the kept content: a comment no escaped text can contain."""
    return SafeString(f"<!--card-actions:{product_id}-->")


@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    form = SearchForm(filter_params(request.GET))
    context: dict = {"form": form, "sort_choices": SORT_CHOICES, "filters": {}, "searched": False}
    if not form.is_valid():
        return _page(request, context, status=400)
    query = form.search_query()
    context["filters"] = form.filters
    if not query.text.strip() and not form.filters:
        return _page(request, context)
    try:
        found = search_selectors.product_search(query)
    except InvalidSearch as exc:
        form.add_error(None, exc.message)
        return _page(request, context, status=400)
    except SearchUnavailable as exc:
        context["unavailable"] = str(exc)
        return _page(request, context, status=503)
    if found.exact:
        return redirect(reverse("catalogue:product-detail", kwargs={"slug": found.exact.slug}))
    results = found.results
    cards = list(found.cards)
    acting = acting_for(request, kind=OrganisationKind.TRUST) if request.user.is_authenticated else None
    actions = card_actions(request=request, product_ids=[card.id for card in cards], acting=acting)
    last_page = max(1, min(-(-results.total // PAGE_SIZE), MAX_PAGE))
    context.update(
        searched=True,
        results=results,
        products=cards,
        # Each card with a mark where what higher apps add to it for this person ("Add to basket")
        # goes in below: the content around them is the same for everyone.
        results_rows=[{"product": card, "actions": _actions_mark(card.id)} for card in cards],
        facet_groups=[
            {
                "name": field.name,
                "label": field.label,
                "values": found.facets.get(field.name, []),
                "selected": form.filters.get(field.name, []),
            }
            for field in PRODUCT_DOCUMENT.facet_fields
        ],
        selected_filters=_selected_filters(form.filters, found.facets),
        pagination=_page_numbers(form.page_number, last_page),
        first_result=query.offset + 1,
        last_result=query.offset + len(results.hits),
    )
    # Kept for everyone by the query string as sent (its links repeat it), under the same versions
    # as the search itself.
    body = catalogue_cached(
        ("search-page", request.get_full_path()),
        lambda: _page_body(request, context),
        also=(search_selectors.INDEX_NAMESPACE,),
    )
    for card in cards:
        shown = actions.get(card.id, [])
        body = body.replace(_actions_mark(card.id), "".join(action.html for action in shown))
    return _page(request, context, body=SafeString(body))


def _page_body(request: HttpRequest, context: dict) -> SafeString:
    return render_to_string("catalogue/search/results_body.html", {**context, "request": request})


@require_GET
def autocomplete(request: HttpRequest) -> HttpResponse:
    """An HTML fragment of suggestions (role=option items) for the header search box. Each carries
    its product's page, which choosing it opens (catalogue/static/catalogue/search-autocomplete.js)."""
    text = (request.GET.get("q") or "")[:200]
    suggestions = selectors.autocomplete(text, limit=8)
    urls = search_selectors.product_urls([s.object_id for s in suggestions])
    return render(
        request,
        "catalogue/search/autocomplete.html",
        {
            "suggestions": [
                {"title": s.title, "url": urls[s.object_id]} for s in suggestions if s.object_id in urls
            ],
            "terms": text.split(),
        },
    )
