"""Negotiated prices: a supplier gives a trust (or a group of trusts) a price for one of its offers,
valid between two dates (the outcome of a tender, a contract or a round).

- `models.py`: `NegotiatedPrice` and the trusts it applies to (`NegotiatedPriceTrust`, which copies
  the offer and dates so a buyer's contract prices are one indexed read, and PostgreSQL refuses
  two live ones for the same trust and offer whose dates overlap). Imported by `purchasing.models`,
  so they belong to the purchasing app.
- `services.py`: `negotiated_price_set`, `negotiated_price_withdraw` (audited).
- `selectors.py`: a supplier's prices, a trust's prices, a buyer's live prices on a day.
- `sources.py`: `NegotiatedPriceSource`, the "contract" price source registered with the pricing
  strategy in `purchasing.apps`; it loads a buyer's live prices once per strategy.
- pages (`views.py`, `forms.py`, `urls.py`), API (`api.py`, `api_urls.py`), back office
  (`wagtail_hooks.py`, imported by `purchasing.wagtail_hooks`), demo data (`demo.py`).

Prices are data with their source, never edits to the list price. See docs/purchasing.md.
"""
