"""Signed machine callers: Buildium webhooks and Twilio-compatible inbound SMS (not rate limited here)."""

from __future__ import annotations

from chalice import Blueprint, Response

from shared.observability import bind, count
from shared.services.container import services

from ..plumbing import ALL_TYPES, JSON, documented, endpoint, form_fields, json_response, lazy_module, request_base_url

# Imported on first use, not with the handler (cold start): each route's models and use cases.
answers = lazy_module("functions.api.answers")

bp = Blueprint(__name__)


@bp.route("/webhooks/buildium", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "`{status: ignored}`.", 202: "`{status}`: queued.", 401: "Bad signature or timestamp."},
            request={"type": "object", "description": "Buildium's webhook event, signed."},
            body_types=(JSON,), response="answers.Outcome")
@endpoint()
def buildium_webhook():
    """Verify, queue, answer: no PMS call here (Buildium allows 10 s and retries; the consumer fetches)."""
    from shared.services import pms_sync

    request = bp.current_request
    outcome = pms_sync.receive_webhook(services(), dict(request.headers or {}), request.raw_body or b"")
    return json_response(200 if outcome == "ignored" else 202, answers.Outcome(status=outcome))


@bp.route("/channels/sms", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "TwiML: the reply.", 403: "No valid X-Twilio-Signature."}, request={"type": "object",
            "description": "Twilio's inbound SMS parameters (From, To, Body, MessageSid), signed."},
            body_types=("application/x-www-form-urlencoded",), produces=("text/xml",),
            headers={"X-Twilio-Signature": "Twilio's signature of the URL and parameters."})
@endpoint()
def sms_webhook():
    """Twilio-compatible inbound SMS: verify X-Twilio-Signature, apply the text once, answer TwiML."""
    from shared.services import sms

    request = bp.current_request
    svc = services()
    params = form_fields(exact=True)  # the signature covers every parameter exactly as sent
    query = "&".join(f"{k}={v}" for k, v in (request.query_params or {}).items())
    url = request_base_url().rstrip("/") + "/channels/sms" + (f"?{query}" if query else "")
    token = svc.secrets.get(svc.settings.twilio_auth_token_secret_arn)
    if not sms.twilio_signature_valid(token, url, params, (request.headers or {}).get("x-twilio-signature")):
        count("Http403")
        return json_response(403, {"error": "invalid_signature",
                           "message": "A valid X-Twilio-Signature header is required."})
    msg = sms.InboundSms(channel="twilio", message_id=params.get("MessageSid") or params.get("SmsSid") or "",
                         from_phone=params.get("From", ""), to_phone=params.get("To", ""), body=params.get("Body", ""))
    outcome = sms.handle_inbound(svc, msg)
    bind(work_order_id=outcome.work_order_id)
    return Response(body=sms.twiml(outcome.reply), status_code=200, headers={"Content-Type": "text/xml"})
