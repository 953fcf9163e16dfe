"""Product-page panels: the extension point through which higher apps add to a product's page.

The catalogue knows nothing of the apps above it (pricing now; purchasing and personal budgets
next). Each registers a panel once, in its AppConfig.ready, and the product page shows every panel
that has something for the person looking, in the order registered:

    register_product_panel(ProductPanel("peer-prices", "pricing/includes/peer_prices.html", context))

`context(request, product)` returns the panel template's context, or None to show nothing. Cards
on a results page take actions the same way (`register_card_action`), worked out once for the
whole page's products, never a query per card. So
every arrow between the apps is a Python import the layers contract can see, not a template tag
loaded by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString

from catalogue.caching import buyer_cached
from catalogue.models import Product
from organisations.acting import NAMESPACE as PEOPLE
from organisations.acting import Acting


@dataclass(frozen=True)
class ProductPanel:
    name: str
    template: str
    context: Callable[[HttpRequest, Product], dict | None]


@dataclass(frozen=True)
class ShownPanel:
    name: str
    html: SafeString


_PANELS: dict[str, ProductPanel] = {}


def register_product_panel(panel: ProductPanel) -> None:
    """Add (or replace, by name) a panel on every product page."""
    _PANELS[panel.name] = panel


def unregister_product_panel(name: str) -> None:
    _PANELS.pop(name, None)


def product_panels(*, request: HttpRequest, product: Product) -> list[ShownPanel]:
    """The panels with something to show this person for this product, rendered with their own
    template and context (autoescaped like any page)."""
    shown = []
    for panel in _PANELS.values():
        context = panel.context(request, product)
        if context is not None:
            shown.append(ShownPanel(panel.name, render_to_string(panel.template, context, request=request)))
    return shown


@dataclass(frozen=True)
class CardAction:
    """Something a higher app adds to each product card of a results page ("Add to basket").

    `context(request, product_ids)` answers for the whole page at once: each product's template
    context, leaving out the products with nothing to show (or None for nothing at all).

    `per_person`: the context depends only on who asks (the user, whom they act for, their roles
    there), the page's address, the catalogue and the buyer's prices. Then the rendered cards are
    kept for that user and buyer (`catalogue.caching.buyer_cached`, also under the people's
    namespace, which every membership change moves), with the CSRF token put in on each request."""

    name: str
    template: str
    context: Callable[[HttpRequest, Sequence[int]], Mapping[int, dict] | None]
    per_person: bool = False


_CARD_ACTIONS: dict[str, CardAction] = {}


def register_card_action(action: CardAction) -> None:
    """Add (or replace, by name) an action on every product card of the search results."""
    _CARD_ACTIONS[action.name] = action


def unregister_card_action(name: str) -> None:
    _CARD_ACTIONS.pop(name, None)


def card_actions(
    *, request: HttpRequest, product_ids: Sequence[int], acting: Acting | None = None
) -> dict[int, list[ShownPanel]]:
    """Each product's actions for this person, rendered with their own template (autoescaped).

    A card's template sees its action's context and the page's CSRF token (`{% csrf_token %}`), not
    the request's context processors: they would run once per card (a new masked token each time,
    the messages, the switcher), most of a results page's rendering for nothing the card shows.
    `acting`: whom the request acts for, which actions kept per person (`per_person`) are keyed by."""
    shown: dict[int, list[ShownPanel]] = {}
    if not product_ids:
        return shown
    token = None
    for action in _CARD_ACTIONS.values():
        if action.per_person and acting is not None and getattr(request.user, "pk", None):
            organisation = acting.organisation.pk if acting.organisation is not None else None
            person = (request.user.pk, organisation, tuple(sorted(acting.roles)))
            key = ("card-action", action.name, *person, tuple(product_ids), request.get_full_path())
            rendered = buyer_cached(
                acting.buyer,
                key,
                partial(_render_action, action, request, product_ids, _CSRF_MARK),
                also=(PEOPLE,),
            )
            if rendered:
                token = token or get_token(request)
                rendered = {pk: SafeString(html.replace(_CSRF_MARK, token)) for pk, html in rendered.items()}
        else:
            token = token or get_token(request)
            rendered = _render_action(action, request, product_ids, token)
        for product_id in product_ids:
            if (html := rendered.get(product_id)) is not None:
                shown.setdefault(product_id, []).append(ShownPanel(action.name, html))
    return shown


# Stands for the request's CSRF token in cards kept for a person (letters only: escaping keeps it).
_CSRF_MARK = "csrfTokenKeptCardMark"


def _render_action(
    action: CardAction, request: HttpRequest, product_ids: Sequence[int], token: str
) -> dict[int, SafeString]:
    contexts = action.context(request, product_ids) or {}
    if not contexts:
        return {}
    template = get_template(action.template)
    return {
        product_id: template.render({**context, "csrf_token": token})
        for product_id in product_ids
        if (context := contexts.get(product_id)) is not None
    }
