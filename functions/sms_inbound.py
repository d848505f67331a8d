"""Inbound SMS from AWS End User Messaging two-way SMS (the number's two-way destination is an SNS
topic this function subscribes to). Thin: parse the documented JSON, apply the text, reply by SMS."""

import json

from pydantic import ValidationError

from shared.entry import lambda_entry
from shared.observability import bind, count, logger
from shared.services.container import services
from shared.services.sms import InboundSms, handle_inbound


def _apply(record: dict) -> None:
    sns = record["Sns"]
    try:
        payload = json.loads(sns["Message"])
        msg = InboundSms(channel="eum", message_id=payload["inboundMessageId"],
                         from_phone=payload["originationNumber"], to_phone=payload.get("destinationNumber", ""),
                         body=payload.get("messageBody") or "")
    except (ValueError, KeyError, TypeError, ValidationError) as exc:  # not a two-way SMS payload: nothing to retry
        count("SmsInboundRejected")
        logger.warning("inbound sms rejected", extra={"reason": type(exc).__name__,
                                                      "sns_message_id": sns.get("MessageId")})
        return
    svc = services()
    outcome = handle_inbound(svc, msg)
    bind(work_order_id=outcome.work_order_id)
    if outcome.reply:  # same channel back: an SMS from the number the tenant texted
        svc.outbound().sms(msg.from_phone, outcome.reply)
    logger.info("inbound sms", extra={"channel": "eum", "action": outcome.action})


@lambda_entry()
def lambda_handler(event, context):
    for record in event.get("Records", []):
        _apply(record)
    return {"processed": len(event.get("Records", []))}
