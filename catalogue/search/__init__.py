"""The catalogue's search room: the search page, the header's suggestions and the search API over
the generic engine in the top-level `search` app (`forms.py` parses and limits a query for both the
page and the API, `selectors.py` loads a page of product cards in one query)."""
