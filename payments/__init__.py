"""Payments (coming): the one app that talks to Stripe (amounts in integer pence at this edge).

Empty for now so that the import-linter contracts (pyproject.toml) already hold its place: a generic
engine beside `search` and `ledger`, independent of both, and the only package allowed to import
`stripe` (docs/architecture.md).
"""
