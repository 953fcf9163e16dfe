"""Payments: the one app that talks to Stripe; amounts are integer pence at this edge.

A generic engine beside `search` and `ledger`, independent of both: it takes a card payment for a
reference (what it pays for, such as "order:123"), refunds it, follows Stripe's webhooks and tells
the apps above it, through listeners they register, when a payment's state changes
(docs/payments.md). It is the only package allowed to import `stripe` (docs/architecture.md).
"""
