"""Ledger: a generic double-entry ledger in integer pence, modelled on TigerBeetle.

Accounts with posted and pending debits and credits, transfers that are their own idempotency keys,
pending transfers that post, void or expire exactly once. It knows nothing of budgets, the
catalogue or purchasing (docs/ledger.md, docs/architecture.md).
"""
