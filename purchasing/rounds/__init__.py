"""Aggregated purchasing rounds, a room of the purchasing app (docs/purchasing.md).

- `models.py`: `Round` (one product, its offers, volume tiers over the total committed, minimum,
  opening and closing times, delivery window, audience), `RoundOffer`, `RoundTier`, `Commitment`
  (one per trust and round), `RoundVolumePoint` (the chart). Imported by `purchasing/models.py`.
- `services.py`: propose, approve, reject, cancel; commit, change, withdraw; `round_close` (exactly
  once; the orders through `purchasing.services.orders_place`) and `rounds_close_due` for the beat.
- `selectors.py`: rounds open to the acting trust, a supplier's rounds, one round, its live figures.
- `types.py`: `RoundLive`, `TierInput`. `pooled.py`: `PooledPriceSource`, the strategy's pooled price.
- `tasks.py`: the beat task that closes due rounds; the participants' emails. `api.py`: the API.
"""
