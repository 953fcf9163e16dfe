"""Stripe's webhook endpoint: thin, answering at once; the work is a Celery task's."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services
from payments.gateway import WebhookRejected

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot hold a CSRF token; the signature proves the sender instead.
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event, new = services.webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRejected as error:
        logger.warning("stripe webhook refused: %s", error)
        return JsonResponse({"detail": "The signature is missing, wrong or too old."}, status=400)
    except services.PaymentsDisabled as error:
        # Stripe retries for days; once the keys are set the events arrive.
        return JsonResponse(error.as_dict(), status=503)
    return JsonResponse({"received": event.event_id, "duplicate": not new})
