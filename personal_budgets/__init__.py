"""Personal budgets (coming): patients' wallets on the double-entry ledger and the patient shop.

Empty for now so that the import-linter layers contract (pyproject.toml) already holds its place:
above `purchasing`, below `marketplace` (docs/architecture.md).
"""
