"""Personal health budgets: patients' wallets on the double-entry ledger, their support plans, the
patient shop, the care coordinator's approvals and the commissioner's allocations and reports
(docs/personal_budgets.md). Stands above `purchasing` (its orders) and `ledger` (its money)."""
