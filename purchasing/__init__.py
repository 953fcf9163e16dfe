"""Purchasing (coming): baskets, purchase orders, approvals and aggregated purchasing rounds.

Empty for now so that the import-linter layers contract (pyproject.toml) already holds its place:
above `pricing`, below `personal_budgets` and `marketplace` (docs/architecture.md).
"""
