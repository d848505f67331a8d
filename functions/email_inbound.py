"""Inbound email from the SES receipt rule: the raw message is in S3 (the rule's S3 action ran first);
apply it once, answer by SES when there is something to say. Thin: parse, one use case, reply."""

from shared.entry import lambda_entry
from shared.observability import bind, count, logger
from shared.services.container import services


def _apply(record: dict) -> None:
    # cold start: the MIME parser and the use cases load with the first message, not at import
    from shared.domain.inbound_email import parse
    from shared.services.email_inbound import RAW_PREFIX, Verdicts, handle_email, reply_subject, signature

    ses = record["ses"]
    message_id = ses["mail"]["messageId"]
    receipt = ses.get("receipt") or {}
    verdicts = Verdicts(**{name: (receipt.get(f"{name}Verdict") or {}).get("status", "GRAY")
                           for name in ("spam", "virus", "spf", "dkim", "dmarc")})
    svc = services()
    raw = svc.inbound_mail().read(f"{RAW_PREFIX}{message_id}")
    try:
        mail = parse(raw)
    except Exception as exc:  # a message the email package cannot read: nothing to retry
        count("EmailInboundRejected")
        logger.warning("inbound email unreadable", extra={"reason": type(exc).__name__, "ses_message_id": message_id})
        return
    outcome = handle_email(svc, mail, message_id, verdicts)
    bind(work_order_id=outcome.work_order_id)
    if outcome.reply and mail.from_address:
        svc.outbound().email(mail.from_address, reply_subject(mail, outcome), outcome.reply + signature(outcome))
    logger.info("inbound email", extra={"action": outcome.action, "photos": outcome.photos,
                                        "ses_message_id": message_id})


@lambda_entry(requires=("inbound_email_bucket", "photos_bucket", "document_bucket"))
def lambda_handler(event, context):
    records = event.get("Records", [])
    for record in records:
        _apply(record)
    return {"processed": len(records)}
