"""SNS -> Lambda deliveries with the event AWS sends, asynchronously.

moto delivers a topic's ``lambda`` subscriptions synchronously inside ``Publish`` with a canned
event (``TopicArn`` ``arn:aws:sns:EXAMPLE``, made-up message attributes). AWS invokes the function
asynchronously with the real topic and subscription ARNs, the message id, time stamp, subject and
attributes. This patch builds that event and hands the invoke to the asynchronous delivery pool
(``Publish`` returns at once, as on AWS).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from infra.localcloud.pumps import deliveries

_applied = False
_lock = threading.Lock()


def sns_event(subscription: Any, message: str, message_id: str, subject: str | None,
              attributes: dict[str, Any] | None) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn,
        "Sns": {
            "Type": "Notification", "MessageId": message_id, "TopicArn": subscription.topic.arn,
            "Subject": subject, "Message": message, "Timestamp": now, "SignatureVersion": "1",
            "Signature": "", "SigningCertUrl": "", "UnsubscribeUrl": "",
            "MessageAttributes": {k: {"Type": v.get("Type"), "Value": v.get("Value")}
                                  for k, v in (attributes or {}).items()},
        },
    }]}


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        from moto.sns.models import Subscription

        original = Subscription.publish

        def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                    message_attributes: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
            if self.protocol != "lambda":
                return original(self, message, message_id, subject, message_attributes, *args, **kwargs)
            if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
                    message_attributes, message):
                return None
            from moto.awslambda.utils import get_backend

            arn = self.endpoint
            region = arn.split(":")[3]
            fn = get_backend(self.account_id, region).get_function(arn)
            event = json.dumps(sns_event(self, message, message_id, subject, message_attributes))
            deliveries.submit(fn.function_arn, fn.invoke, event, {}, {})
            return None

        Subscription.publish = publish  # type: ignore[method-assign]
        _applied = True
