"""Two-way SMS on the local cloud: the Twilio-compatible webhook and AWS End User Messaging (SNS)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from shared.services.sms import twilio_signature
from tests.integration.conftest import UNITS, U, eventually
from tests.integration.test_lifecycle import record, submit, wait_offer, wait_status, window

pytestmark = pytest.mark.integration
WEBHOOK_URL = "http://testserver/channels/sms"  # PublicBaseUrl of the test stack + the route
OUR_NUMBER = "+15550199999"


@pytest.fixture(scope="module", autouse=True)
def _settle(request):
    """Let this module's asynchronous deliveries (PMS writes, notifications) finish before later tests."""
    yield
    request.getfixturevalue("stack").cloud.wait_idle(timeout=20)


# ---------------------------------------------------------------- helpers
def twilio(stack, api, phone: str, body: str, sid: str | None = None, token: str | None = None):
    params = {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "AccountSid": "AC" + "0" * 32, "From": phone,
              "To": OUR_NUMBER, "Body": body, "NumMedia": "0"}
    signature = twilio_signature(token or stack.secret("TwilioAuthTokenSecret"), WEBHOOK_URL, params)
    return api.call("POST", "/channels/sms", raw=urlencode(params),
                    headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
                             "Accept": "*/*"})


def eum(stack, phone: str, body: str) -> str:
    """What AWS End User Messaging publishes to the number's two-way SNS topic."""
    message_id = str(uuid.uuid4())
    stack.cloud.client("sns").publish(TopicArn=stack.cloud.physical("InboundSmsTopic"), Message=json.dumps({
        "originationNumber": phone, "destinationNumber": OUR_NUMBER, "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body, "inboundMessageId": message_id, "previousPublishedMessageId": str(uuid.uuid4())}))
    return message_id


def sms_to(stack, phone: str) -> list[dict]:
    return [m for m in stack.cloud.outbox() if m["channel"] == "sms" and m["to"] == phone]


def newest_sms_wo(api, ops_headers, unit_id: str, after: set[str]) -> dict:
    def found():
        items = api.get("/ops/work-orders?source=sms", headers=ops_headers).json()["work_orders"]
        return next((w for w in items if w["unit_id"] == unit_id and w["id"] not in after), None)

    return eventually(found)


def sms_wo_ids(api, ops_headers) -> set[str]:
    return {w["id"] for w in api.get("/ops/work-orders?source=sms", headers=ops_headers).json()["work_orders"]}


def complete_job(stack, api, ops_headers, wo_id: str, offer: int = 1) -> None:
    """Accept the `offer`-th offer (each comes with its own link) and do the job."""
    _, token = wait_offer(stack, wo_id, count=offer)
    assert api.post(f"/vendor/jobs/{token}/accept").status == 200
    assert api.post(f"/vendor/jobs/{token}/schedule", window()).status == 200
    assert api.post(f"/vendor/jobs/{token}/complete", {"notes": "Replaced the washer"}).status == 200
    wait_status(api, ops_headers, wo_id, "completed")


# ---------------------------------------------------------------- the webhook's guard
def test_bad_or_missing_signature_is_403(stack, api):
    tenant = UNITS[U("unit-maple-3a")].tenant
    resp = twilio(stack, api, tenant.phone, "The hallway light is out", token="not-the-token")
    assert resp.status == 403 and resp.json()["error"] == "invalid_signature" and resp.json()["message"]
    resp = api.call("POST", "/channels/sms", raw=urlencode({"From": tenant.phone, "Body": "hi", "MessageSid": "SMx"}),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 403


def test_text_opens_a_request_and_a_duplicate_message_sid_is_ignored(stack, api, ops_headers):
    unit = U("unit-maple-3a")
    tenant = UNITS[unit].tenant
    before = sms_wo_ids(api, ops_headers)
    sid = f"SM{uuid.uuid4().hex}"
    first = twilio(stack, api, tenant.phone, "The bathroom sink drips all night", sid=sid)
    assert first.status == 200 and first.headers["Content-Type"].startswith("text/xml")
    assert first.text.endswith("<Response/>")  # the acknowledgement is the usual message
    again = twilio(stack, api, tenant.phone, "The bathroom sink drips all night", sid=sid)
    assert again.status == 200 and again.text.endswith("<Response/>")
    wo = newest_sms_wo(api, ops_headers, unit, before)
    eventually(lambda: any(wo["id"] in m["body"] and "we received your request" in m["body"]
                           for m in sms_to(stack, tenant.phone)))
    assert len(sms_wo_ids(api, ops_headers) - before) == 1  # the retried MessageSid made nothing new
    full = record(api, ops_headers, wo["id"])
    assert full["source"] == "sms" and full["description"] == "The bathroom sink drips all night"


def test_request_by_text_through_end_user_messaging(stack, api, ops_headers):
    unit = U("unit-harbor-301")
    tenant = UNITS[unit].tenant
    before = sms_wo_ids(api, ops_headers)
    eum(stack, tenant.phone, "There are mice in the kitchen cupboards")
    wo = newest_sms_wo(api, ops_headers, unit, before)
    eventually(lambda: any(wo["id"] in m["body"] for m in sms_to(stack, tenant.phone)))
    eum(stack, "+15557770999", "hello?")
    eventually(lambda: any("not registered" in m["body"] for m in sms_to(stack, "+15557770999")))


def _zone_at(local_hour: int) -> str:
    """An Etc/GMT zone where it is now about `local_hour` o'clock."""
    utc_hour = datetime.now(UTC).hour
    offset = (local_hour - utc_hour + 12) % 24 - 12  # -12..11
    return f"Etc/GMT{'+' if offset <= 0 else '-'}{abs(offset)}"


def test_quiet_hours_defer_routine_sms_but_not_emergencies(stack, api, ops_headers):
    repo = stack.repo
    unit = U("unit-maple-2b")
    tenant = UNITS[unit].tenant
    prop_key = ("PROPERTY#" + repo.get_unit(unit).property_id, "META")
    original = repo.get_record(*prop_key)
    repo.put_record(*prop_key, {**{k: v for k, v in original.items() if k not in ("PK", "SK")},
                                "time_zone": _zone_at(23)})
    repo.put_config("quiet_hours", {"enabled": True})
    try:
        routine = submit(api, unit, "The closet door squeaks")["id"]
        emergency = submit(api, unit, "Water is pouring from the ceiling, the floor is flooding")["id"]
        eventually(lambda: any(emergency in m["body"] for m in sms_to(stack, tenant.phone)))  # emergencies go
        eventually(lambda: any(m["to"] == tenant.email and routine in m["body"] for m in stack.cloud.outbox()))
        held = eventually(lambda: [e for e in record(api, ops_headers, routine)["timeline"]
                                   if e["event"] == "sms_deferred"])
        assert "held for quiet hours until 08:00" in held[0]["detail"]
        assert not any(routine in m["body"] for m in sms_to(stack, tenant.phone))
        queued = _delayed_notification(stack, routine)
        assert queued is not None and 0 < queued[1] <= 900  # deferred, not dropped
    finally:
        repo.put_record(*prop_key, {k: v for k, v in original.items() if k not in ("PK", "SK")})
        repo.put_config("quiet_hours", {"enabled": False})
    # Morning: the held event comes back and the SMS goes (played now instead of waiting for the delay).
    body = queued[0]
    stack.invoke("NotificationFunction", {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "attributes": {},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications"}]})
    assert any(routine in m["body"] for m in sms_to(stack, tenant.phone))


def _delayed_notification(stack, wo_id: str) -> tuple[str, float] | None:
    from moto.sqs.models import sqs_backends

    name = stack.cloud.physical("NotificationQueue").rsplit("/", 1)[-1]
    queue = sqs_backends[stack.cloud.account_id][stack.cloud.region].get_queue(name)
    now_ms = datetime.now(UTC).timestamp() * 1000
    for message in list(queue._messages):
        if wo_id in message.body and message.delayed_until > now_ms:
            return message.body, (message.delayed_until - now_ms) / 1000
    return None
