"""The hooks the apps above payments register at start-up (from their AppConfig.ready()).

Kept in one module so that services (which call the listeners) and selectors (which ask the
reconciliation sources) share them; both re-export the register functions.
"""

from __future__ import annotations

from payments.types import PaymentListener, ReconciliationSource

_listeners: list[PaymentListener] = []
_sources: dict[str, ReconciliationSource] = {}


def register_payment_listener(listener: PaymentListener) -> PaymentListener:
    """Call `listener(change)` inside the transaction of every payment state change (and every
    further refund); if it raises, the change is rolled back and retried with the event. Registering
    the same callable twice keeps one. Usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unregister_payment_listener(listener: PaymentListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def payment_listeners() -> tuple[PaymentListener, ...]:
    return tuple(_listeners)


def register_reconciliation_source(
    source: ReconciliationSource, *, name: str = "ledger"
) -> ReconciliationSource:
    """The books' view of card payments (personal_budgets gives the ledger's), compared by
    `payments_reconcile` and the finance page. One per name: registering again replaces it."""
    _sources[name] = source
    return source


def unregister_reconciliation_source(name: str = "ledger") -> None:
    _sources.pop(name, None)


def reconciliation_sources() -> dict[str, ReconciliationSource]:
    return dict(_sources)
