"""Photos and inbound email on the local cloud: presigned POST uploads to the stack's bucket, the check
after upload (S3 -> EventBridge default bus -> PhotoCheck), and SES receipt rules (raw MIME -> S3 ->
EmailInbound). The images in tests/fixtures/photos are real files (rendered by chromium)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.integration.conftest import UNITS, U, eventually
from tests.integration.test_lifecycle import record, submit

pytestmark = pytest.mark.integration
PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
JPEG = (PHOTOS / "sink.jpg").read_bytes()
PNG = (PHOTOS / "drain.png").read_bytes()


@pytest.fixture(scope="module", autouse=True)
def _settle(request):
    yield
    request.getfixturevalue("stack").cloud.wait_idle(timeout=20)


def token_of(status_url: str) -> str:
    return parse_qs(urlparse(status_url).query)["token"][0]


def slot(api, wo_id: str, token: str, content_type: str | None = None):
    return api.post(f"/requests/{wo_id}/photos?token={token}", {"content_type": content_type} if content_type else {})


def upload(slot_body: dict, data: bytes, filename: str = "photo.jpg") -> requests.Response:
    fields = slot_body["fields"]
    files = {"file": (filename, data, fields.get("Content-Type", "application/octet-stream"))}
    return requests.post(slot_body["url"], data=fields, files=files, timeout=20)


def photos_of(api, ops_headers, wo_id: str) -> list[dict]:
    return record(api, ops_headers, wo_id)["photos"]


def timeline_events(api, ops_headers, wo_id: str, event: str) -> list[dict]:
    return [e for e in record(api, ops_headers, wo_id)["timeline"] if e["event"] == event]


def objects(stack, prefix: str) -> list[str]:
    listed = stack.cloud.client("s3").list_objects_v2(Bucket=stack.cloud.physical("PhotosBucket"), Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


# ---------------------------------------------------------------- uploads and the check
def test_tenant_photo_is_uploaded_by_presigned_post_checked_and_shown(stack, api, ops_headers):
    unit_id = U("unit-maple-3a")
    created = submit(api, unit_id, "Kitchen tap drips all night")
    wo_id, token = created["id"], token_of(created["status_url"])
    resp = slot(api, wo_id, token, "image/jpeg")
    assert resp.status == 201, resp.body
    body = resp.json()
    assert body["key"].startswith(f"uploads/{wo_id}/tenant/") and body["fields"]["key"] == body["key"]
    assert body["fields"]["Content-Type"] == "image/jpeg" and body["max_bytes"] == 10 * 1024 * 1024
    assert upload(body, JPEG).status_code in (200, 204)
    photo = eventually(lambda: photos_of(api, ops_headers, wo_id))[0]
    assert photo["party"] == "tenant" and photo["content_type"] == "image/jpeg" and photo["size"] == len(JPEG)
    assert photo["key"] == "photos/" + body["key"].removeprefix("uploads/")
    eventually(lambda: objects(stack, f"uploads/{wo_id}/") == [])  # checked uploads do not linger
    kept = stack.cloud.client("s3").get_object(Bucket=stack.cloud.physical("PhotosBucket"), Key=photo["key"])
    assert kept["Body"].read() == JPEG and kept["ContentType"] == "image/jpeg"
    assert timeline_events(api, ops_headers, wo_id, "photo_added")
    view = api.get(f"/requests/{wo_id}?token={token}").json()
    assert view["photos"][0]["party"] == "tenant" and "X-Amz-Signature" in view["photos"][0]["url"]
    html = api.get(f"/requests/{wo_id}?token={token}", headers={"Accept": "text/html"}).body.decode()
    assert "<img" in html and 'enctype="multipart/form-data"' in html and "success_action_redirect" in html


# ---------------------------------------------------------------- inbound email
def mail(sender: str, subject: str, text: str, attachments: list[tuple[str, str, bytes]] = (),
         to: str = "maintenance@example.com", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{uuid.uuid4()}@tenant.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def test_an_email_from_a_tenant_opens_a_request_with_its_photos(stack, served, api, ops_headers):
    """Sent as `make local` users send mail (the local route hands raw MIME to SES's receipt rule)."""
    unit_id = U("unit-harbor-202")
    tenant = UNITS[unit_id].tenant
    raw = mail(f"{tenant.name} <{tenant.email.upper()}>", "Leak under the kitchen sink",
               "Water is pooling under the sink since this morning.\n\n-- \nJade\n",
               [("sink.jpg", "image/jpeg", JPEG), ("notes.txt", "text/plain", b"not a photo")])
    resp = requests.post(f"{served}/_local/email", data=raw, headers={"Content-Type": "message/rfc822"}, timeout=20)
    assert resp.status_code == 200
    message_id = resp.json()["message_id"]
    assert requests.post(f"{served}/_local/email", data=b"", timeout=5).status_code == 400
    raw_key = f"inbound-email/{message_id}"
    stored = stack.cloud.client("s3").get_object(Bucket=stack.cloud.physical("InboundEmailBucket"), Key=raw_key)
    assert stored["Body"].read() == raw  # the receipt rule's S3 action ran before the function
    found = eventually(lambda: [w for w in api.get("/ops/work-orders?source=email", headers=ops_headers)
                                .json()["work_orders"] if w["unit_id"] == unit_id
                                and "pooling" in record(api, ops_headers, w["id"])["description"]])
    wo_id = found[0]["id"]
    wo = record(api, ops_headers, wo_id)
    assert wo["description"] == "Leak under the kitchen sink: Water is pooling under the sink since this morning."
    assert wo["tenant"]["email"] == tenant.email
    photo = eventually(lambda: photos_of(api, ops_headers, wo_id))
    assert len(photo) == 1 and photo[0]["content_type"] == "image/jpeg"
    ack = eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] == tenant.email and wo_id in m["body"]])
    assert ack[0]["channel"] == "email"
    # SES delivers the same message again: dropped.
    stack.invoke("EmailInboundFunction", _ses_event(stack, message_id))
    stack.cloud.wait_idle(timeout=20)
    again = [w for w in api.get("/ops/work-orders?source=email", headers=ops_headers).json()["work_orders"]
             if w["unit_id"] == unit_id and "pooling" in record(api, ops_headers, w["id"])["description"]]
    assert len(again) == 1


def _ses_event(stack, message_id: str) -> dict:
    from tests.events import load_event

    return load_event("ses/inbound_email", message_id=message_id,
                      function_arn=stack.cloud.resources["EmailInboundFunction"])


def test_an_async_event_that_keeps_failing_lands_in_the_dead_letter_queue(stack):
    """SES invokes the function asynchronously: after Lambda's two retries the event is kept in the DLQ."""
    import json

    from tests.events import load_event

    message_id = f"missing{uuid.uuid4().hex}"  # the receipt rule never stored this message
    event = load_event("ses/inbound_email", message_id=message_id,
                       function_arn=stack.cloud.resources["EmailInboundFunction"])
    stack.cloud.client("lambda").invoke(FunctionName=stack.cloud.physical("EmailInboundFunction"),
                                        InvocationType="Event", Payload=json.dumps(event).encode())
    sqs = stack.cloud.client("sqs")
    dlq = stack.cloud.physical("AsyncInvokeDLQ")

    def dead_letters() -> list[dict]:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                  VisibilityTimeout=0)
        return [m for m in got.get("Messages", []) if message_id in m["Body"]]

    kept = eventually(dead_letters)[0]
    assert kept["MessageAttributes"]["ErrorMessage"]["StringValue"] and kept["MessageAttributes"]["RequestID"]
    assert json.loads(kept["Body"]) == event  # the whole event, so ops can replay it
