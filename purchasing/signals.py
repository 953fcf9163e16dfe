"""The shared cache's kept prices per trust dropped when what they are read from changes (connected in
PurchasingConfig.ready): contract prices (`purchasing.agreements.selectors.CONTRACT_PRICES`) on every
save or delete of a negotiated price or its rows per trust, pooled prices
(`purchasing.rounds.selectors.POOLED_PRICES`) on every save or delete of a round or a commitment.
Bulk writes, which send no signals, call the `*_changed` functions themselves."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from common.caching import shared_changed
from purchasing.agreements.models import NegotiatedPrice, NegotiatedPriceTrust
from purchasing.agreements.selectors import CONTRACT_PRICES
from purchasing.rounds.models import Commitment, Round
from purchasing.rounds.selectors import POOLED_PRICES

_NAMESPACES = {
    NegotiatedPrice: CONTRACT_PRICES,
    NegotiatedPriceTrust: CONTRACT_PRICES,
    Round: POOLED_PRICES,
    Commitment: POOLED_PRICES,
}


def _prices_changed(sender: Any, **kwargs: Any) -> None:
    shared_changed(_NAMESPACES[sender])


for _model in _NAMESPACES:
    post_save.connect(_prices_changed, sender=_model, dispatch_uid=f"prices_saved_{_model.__name__}")
    post_delete.connect(_prices_changed, sender=_model, dispatch_uid=f"prices_deleted_{_model.__name__}")
