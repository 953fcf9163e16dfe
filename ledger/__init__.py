"""Ledger (coming): a generic double-entry ledger (accounts, balanced transfers, integer pence).

Empty for now so that the import-linter layers contract (pyproject.toml) already holds its place:
a generic engine beside `search` and `payments`, independent of both, knowing nothing of the
catalogue or of budgets (docs/architecture.md).
"""
