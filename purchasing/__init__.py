"""Purchasing: what a trust buys on the marketplace, from basket to closed purchase order.

- `models.py`: a trust's purchasing settings (approval bands, invoice match tolerance), delivery
  sites and cost centres; baskets and their lines; checkout requests (the idempotency keys);
  purchase orders with their lines, approvals, invoice lines and timeline (`OrderEvent`).
- `states.py`: the order's states and the ONE transition table (who may move an order from where).
- `services.py`: settings (trust admins), basket lines (add, change, remove, swap), `basket_checkout`
  and one service per transition (`order_approve`, `order_dispatch`, ...); nothing else changes an
  order's state.
- `selectors.py`: settings, `basket_for` (priced lines by supplier with peers' prices and cheaper
  equivalents), order lists and pages scoped to the acting organisation, queues, `order_match`.
- `agreements/`: negotiated prices, a supplier's price for its offer for named trusts between two
  dates, priced by the strategy as the `contract` source (registered in `apps.py`).
- `types.py`: the typed shapes pages, the API and documents use (`BasketView`, `OrderInput`,
  `ChangesToConfirm`, `MatchResult`, ...). `tasks.py`: the email of each step, on commit.

Layers: above `pricing` (peers' prices, received lines into purchase history) and `catalogue`
(the buyable rule, the pricing strategy), below `personal_budgets` and `marketplace`. See
docs/purchasing.md. Aggregated purchasing rounds are the room `rounds/` (its own `__init__` says
what is in it); the orders a closed round places go through `services.orders_place`.
"""
