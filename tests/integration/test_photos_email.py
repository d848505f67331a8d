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
from tests.integration.test_lifecycle import record, submit, wait_offer, wait_status, window

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


def test_the_check_judges_real_bytes_not_names_or_declared_types(stack, api, ops_headers):
    unit_id = U("unit-maple-3b")
    created = submit(api, unit_id, "Bedroom window will not close")
    wo_id, token = created["id"], token_of(created["status_url"])
    # A PNG sent without a declared type is kept as what it really is.
    assert upload(slot(api, wo_id, token).json(), PNG, "drain.jpg").status_code in (200, 204)
    # A text file renamed .jpg (declared as JPEG) and an oversized file are deleted, and the timeline says why.
    assert upload(slot(api, wo_id, token, "image/jpeg").json(), b"just some text, not a photo\n" * 4,
                  "fake.jpg").status_code in (200, 204)
    big = JPEG + b"\0" * (10 * 1024 * 1024 + 1 - len(JPEG))
    assert upload(slot(api, wo_id, token, "image/jpeg").json(), big, "big.jpg").status_code in (200, 204, 400)
    rejected = eventually(lambda: len(timeline_events(api, ops_headers, wo_id, "photo_rejected")) >= 1 and
                          timeline_events(api, ops_headers, wo_id, "photo_rejected"))
    stack.cloud.wait_idle(timeout=20)
    rejected = timeline_events(api, ops_headers, wo_id, "photo_rejected")
    reasons = " ".join(e["detail"] for e in rejected)
    assert "not a JPEG, PNG, WebP or HEIC image" in reasons and "larger than 10 MB" in reasons
    photos = photos_of(api, ops_headers, wo_id)
    assert [p["content_type"] for p in photos] == ["image/png"]
    eventually(lambda: objects(stack, f"uploads/{wo_id}/") == [])
    # An undeclared or unknown type is refused up front, naming the field.
    bad = api.post(f"/requests/{wo_id}/photos?token={token}", {"content_type": "text/plain"})
    assert bad.status == 422 and bad.json()["details"][0]["field"] == "content_type"


def test_the_same_upload_event_twice_records_one_photo(stack, api, ops_headers):
    unit_id = U("unit-maple-2a")
    created = submit(api, unit_id, "Hallway light flickers")
    wo_id, token = created["id"], token_of(created["status_url"])
    body = slot(api, wo_id, token, "image/jpeg").json()
    upload(body, JPEG)
    eventually(lambda: photos_of(api, ops_headers, wo_id))
    event = {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": stack.cloud.physical("PhotosBucket")},
                        "object": {"key": body["key"], "size": len(JPEG)}, "reason": "PutObject"}}
    assert stack.invoke("PhotoCheckFunction", event)["outcome"] in ("gone", "duplicate")
    assert len(photos_of(api, ops_headers, wo_id)) == 1


def test_a_sixth_photo_is_refused(stack, api, ops_headers):
    unit_id = U("unit-harbor-101")
    created = submit(api, unit_id, "Radiator knocks loudly")
    wo_id, token = created["id"], token_of(created["status_url"])
    for _ in range(5):
        upload(slot(api, wo_id, token, "image/png").json(), PNG, "drain.png")
    eventually(lambda: len(photos_of(api, ops_headers, wo_id)) == 5)
    refused = slot(api, wo_id, token, "image/png")
    assert refused.status == 409 and refused.json()["details"] == {"limit": 5, "party": "tenant"}
    html = api.get(f"/requests/{wo_id}?token={token}", headers={"Accept": "text/html"}).body.decode()
    assert html.count("<img") == 5 and "multipart/form-data" not in html  # no more upload form


def test_photo_slots_need_the_right_link_and_an_open_job(stack, api, ops_headers):
    unit_id = U("unit-harbor-201")
    created = submit(api, unit_id, "Bathroom fan is noisy")
    wo_id, token = created["id"], token_of(created["status_url"])
    assert slot(api, wo_id, "v1.forged.token").status == 403
    _, job = wait_offer(stack, wo_id)
    # Offered, not yet accepted: the vendor cannot add photos to a job that is not theirs yet.
    assert api.post(f"/vendor/jobs/{job}/photos", {}).status == 409
    assert api.post(f"/vendor/jobs/{job}/accept", {}).status == 200
    vendor_slot = api.post(f"/vendor/jobs/{job}/photos", {"content_type": "image/jpeg"})
    assert vendor_slot.status == 201 and f"uploads/{wo_id}/vendor/" in vendor_slot.json()["key"]
    upload(vendor_slot.json(), JPEG)
    eventually(lambda: [p for p in photos_of(api, ops_headers, wo_id) if p["party"] == "vendor"])
    job_view = api.get(f"/vendor/jobs/{job}").json()
    assert job_view["photos"][0]["party"] == "vendor" and job_view["photo_upload"] is True
    api.post(f"/ops/work-orders/{wo_id}/cancel", {"reason": "tenant fixed it"}, headers=ops_headers)
    assert slot(api, wo_id, token).status == 403  # cancelled: its links stop working, so no more photos


def test_an_upload_with_a_key_we_never_issued_is_deleted(stack, api):
    bucket = stack.cloud.physical("PhotosBucket")
    stack.cloud.client("s3").put_object(Bucket=bucket, Key="uploads/not-ours.jpg", Body=JPEG)
    eventually(lambda: "uploads/not-ours.jpg" not in objects(stack, "uploads/"))


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


def test_an_email_from_a_tenant_opens_a_request_with_its_photos(stack, api, ops_headers):
    unit_id = U("unit-harbor-202")
    tenant = UNITS[unit_id].tenant
    raw = mail(f"{tenant.name} <{tenant.email.upper()}>", "Leak under the kitchen sink",
               "Water is pooling under the sink since this morning.\n\n-- \nJade\n",
               [("sink.jpg", "image/jpeg", JPEG), ("notes.txt", "text/plain", b"not a photo")])
    message_id = stack.cloud.receive_email(raw)
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


def test_an_email_reply_answers_the_follow_up_and_status_is_answered(stack, api, ops_headers):
    unit_id = U("unit-harbor-302")
    tenant = UNITS[unit_id].tenant
    created = submit(api, unit_id, "Shower head leaks")
    wo_id = created["id"]
    _, job = wait_offer(stack, wo_id)
    api.post(f"/vendor/jobs/{job}/accept", {})
    api.post(f"/vendor/jobs/{job}/schedule", window())
    stack.cloud.receive_email(mail(tenant.email, "status", "status"))
    status = eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] == tenant.email
                                 and m.get("subject", "").startswith("Re: status")])
    assert "scheduled" in status[0]["body"] and wo_id in status[0]["body"]
    api.post(f"/vendor/jobs/{job}/complete", {"notes": "New washer"})
    wait_status(api, ops_headers, wo_id, "completed")
    eventually(lambda: record(api, ops_headers, wo_id).get("stage_wait"))
    reply = mail(tenant.email, f"Re: Is it fixed? ({wo_id})", "Yes, all good now, thanks!\n\nOn Mon, Nov 23, 2026 "
                 "at 10:00 AM Maintenance wrote:\n> Is it fixed? Reply YES or NO", [("after.png", "image/png", PNG)])
    stack.cloud.receive_email(reply)
    wait_status(api, ops_headers, wo_id, "verified")
    verified = timeline_events(api, ops_headers, wo_id, "verified")
    assert "by email: Yes, all good now, thanks!" in verified[0]["detail"] and "wrote" not in verified[0]["detail"]
    eventually(lambda: photos_of(api, ops_headers, wo_id))


def test_a_reply_naming_a_request_is_added_to_it(stack, api, ops_headers):
    unit_id = U("unit-maple-1b")
    tenant = UNITS[unit_id].tenant
    wo_id = submit(api, unit_id, "Front door lock sticks")["id"]
    stack.cloud.receive_email(mail(tenant.email, f"Re: We received your maintenance request ({wo_id})",
                                   "It is worse in the cold, photo attached.", [("lock.png", "image/png", PNG)]))
    eventually(lambda: timeline_events(api, ops_headers, wo_id, "tenant_message"))
    eventually(lambda: photos_of(api, ops_headers, wo_id))
    thanks = eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] == tenant.email
                                 and "we added your message and your photo(s)" in m["body"]])
    assert wo_id in thanks[0]["body"]


def test_unknown_or_unauthenticated_senders_open_nothing(stack, api, ops_headers):
    before = api.get("/ops/work-orders?source=email", headers=ops_headers).json()["count"]
    stack.cloud.receive_email(mail("stranger@elsewhere.example.com", "Broken heater", "Please fix my heater"))
    polite = eventually(lambda: [m for m in stack.cloud.outbox() if m["to"] == "stranger@elsewhere.example.com"])
    assert "could not match this email address" in polite[0]["body"]
    # A forged From (SPF and DKIM fail) of a real tenant: no request, and no answer to anyone.
    tenant = UNITS[U("unit-maple-2b")].tenant
    stack.cloud.receive_email(mail(tenant.email, "Broken heater", "Please fix my heater"), verdict="FAIL")
    # An out-of-office answer from a tenant opens nothing either.
    stack.cloud.receive_email(mail(tenant.email, "Out of office", "I am away", Auto_Submitted="auto-replied"))
    stack.cloud.wait_idle(timeout=20)
    assert api.get("/ops/work-orders?source=email", headers=ops_headers).json()["count"] == before
    assert not [m for m in stack.cloud.outbox() if m["to"] == tenant.email and "heater" in m.get("subject", "")]


def test_local_email_route_delivers_raw_mime_through_the_receipt_rule(stack, served, api, ops_headers):
    tenant = UNITS[U("unit-maple-1a")].tenant
    raw = mail(tenant.email, "Smoke alarm chirps", "The smoke alarm in the hallway chirps every minute.")
    resp = requests.post(f"{served}/_local/email", data=raw, headers={"Content-Type": "message/rfc822"}, timeout=20)
    assert resp.status_code == 200 and resp.json()["message_id"]
    eventually(lambda: [w for w in api.get("/ops/work-orders?source=email", headers=ops_headers).json()["work_orders"]
                        if w["unit_id"] == U("unit-maple-1a")])
    assert requests.post(f"{served}/_local/email", data=b"", timeout=5).status_code == 400


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
