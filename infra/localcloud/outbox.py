"""The local outbox: every SMS (SNS publish to a phone number) and email (SES) the system sent.

moto records both in its backends but without a send time; a tiny patch stamps each message id
when it is accepted, so the outbox can be ordered newest first and show ``sent_at``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

_sent_at: dict[str, datetime] = {}
_applied = False
_lock = threading.Lock()


def _stamp(message_id: str | None) -> None:
    if message_id and message_id not in _sent_at:
        _sent_at[message_id] = datetime.now(UTC)


def apply() -> None:
    """Stamp SNS SMS publishes and SES sends with the time they were accepted (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.ses.models import SESBackend
        from moto.sns.models import SNSBackend

        original_publish = SNSBackend.publish

        def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
            message_id = original_publish(self, *args, **kwargs)
            if message_id in self.sms_messages:
                _stamp(message_id)
            return message_id

        SNSBackend.publish = publish  # type: ignore[method-assign]

        for name in ("send_email", "send_raw_email", "send_templated_email"):
            original = getattr(SESBackend, name)

            def send(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                message = _original(self, *args, **kwargs)
                _stamp(getattr(message, "id", None))
                return message

            setattr(SESBackend, name, send)
        _applied = True


def _iso(moment: datetime | None) -> str:
    return (moment or datetime.fromtimestamp(0, UTC)).isoformat().replace("+00:00", "Z")


def read_outbox(account_id: str, region: str) -> list[dict[str, Any]]:
    """SMS and emails, newest first: ``{channel, to, subject (email), body, sent_at}``."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    items: list[tuple[datetime | None, int, dict[str, Any]]] = []
    sns = sns_backends[account_id][region]
    for seq, (message_id, (phone, text)) in enumerate(list(sns.sms_messages.items())):
        moment = _sent_at.get(message_id)
        items.append((moment, seq, {"channel": "sms", "to": phone, "body": text, "sent_at": _iso(moment),
                                    "id": message_id}))
    ses = ses_backends[account_id][region]
    for seq, message in enumerate(list(ses.sent_messages)):
        moment = _sent_at.get(getattr(message, "id", ""))
        destinations = getattr(message, "destinations", {}) or {}
        to = [addr for key in ("ToAddresses", "CcAddresses", "BccAddresses") for addr in destinations.get(key, [])]
        if not to and isinstance(destinations, list):
            to = list(destinations)
        body = getattr(message, "body", None)
        if body is None:
            body = getattr(message, "raw_data", "")
        items.append((moment, seq, {
            "channel": "email",
            "to": to[0] if len(to) == 1 else to,
            "subject": getattr(message, "subject", None),
            "body": body,
            "sent_at": _iso(moment),
            "id": getattr(message, "id", None),
        }))
    epoch = datetime.fromtimestamp(0, UTC)
    items.sort(key=lambda item: (item[0] or epoch, item[1]), reverse=True)
    return [entry for _, _, entry in items]
