"""Personal data with an end, on the local cloud: the buckets' retention lifecycles, export and erasure of a
person through the ops API (the body, never the URL, carries the phone), and the daily redaction schedule
firing the sweep function with the photos bucket it deletes from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain import privacy
from shared.domain.directory import Contact
from shared.domain.photos import Photo
from shared.domain.workorder import Status, TimelineEntry, WorkOrder
from tests.integration.conftest import P, U, eventually

pytestmark = pytest.mark.integration
ROOMMATE = "+15550107777"  # on no unit: found through the person index written with the work order


def test_the_buckets_expire_raw_email_and_photos(stack):
    s3 = stack.cloud.client("s3")

    def expiry(bucket: str) -> dict[str, int]:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=stack.cloud.physical(bucket))["Rules"]
        return {r["ID"]: r["Expiration"]["Days"] for r in rules}

    assert expiry("InboundEmailBucket") == {"raw-mail": 30}
    assert expiry("PhotosBucket") == {"unchecked-uploads": 1, "photo-retention": 400}


def test_export_then_erase_a_person_through_the_ops_api(api, ops_headers):
    made = api.post("/requests", {"unit_id": U("unit-harbor-101"), "name": "Sam Roommate", "phone": ROOMMATE,
                                  "description": "Dryer vent rattles, call me on 555-010-7777"})
    assert made.status == 202, made.body
    wo_id = made.json()["id"]

    exported = api.post("/ops/people/export", {"phone": ROOMMATE}, headers=ops_headers)
    assert exported.status == 200, exported.body
    assert [w["id"] for w in exported.json()["work_orders"]] == [wo_id]
    erased = api.post("/ops/people/erase", {"phone": ROOMMATE}, headers=ops_headers)
    assert erased.status == 200, erased.body
    assert erased.json()["redacted"] == [wo_id]

    shown = api.get(f"/ops/work-orders/{wo_id}", headers=ops_headers).json()
    assert shown["tenant"]["name"] == privacy.REDACTED and shown["tenant"]["phone"] is None
    assert "555-010-7777" not in shown["description"]
    audit = api.get("/ops/audit", headers=ops_headers).json()["actions"]
    assert {"person_exported", "person_erased"} <= {a["action"] for a in audit}
    assert ROOMMATE not in str(audit)
    assert api.post("/ops/people/erase", {"phone": ROOMMATE, "email": "a@b.example"},
                    headers=ops_headers).status == 422
    assert api.post("/ops/people/erase", {"phone": ROOMMATE}).status in (401, 403)


def test_the_daily_schedule_redacts_ended_work_orders_past_the_retention(stack):
    """An order that ended long ago (written as it would have been then) loses its personal fields and photo."""
    then = datetime.now(UTC) - timedelta(days=400)
    wo_id = f"wo-old{uuid.uuid4().hex[:12]}"
    key = f"photos/{wo_id}/tenant/1.jpg"
    s3, bucket = stack.cloud.client("s3"), stack.cloud.physical("PhotosBucket")
    s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff")
    photo = Photo(key=key, upload_key=f"uploads/{wo_id}/tenant/1", party="tenant", content_type="image/jpeg",
                  size=3, uploaded_at=then)
    old = WorkOrder(id=wo_id, status=Status.CANCELLED, property_id=P("prop-harbor"), unit_id=U("unit-harbor-101"),
                    tenant=Contact(name="Old Tenant", phone="+15550106666"), description="Leak, text 555-010-6666",
                    photos=[photo], created_at=then, updated_at=then)
    stack.repo.create_work_order(old, TimelineEntry(at=then, event="received"))

    assert stack.cloud.fire_schedule("PersonalDataSchedule").error is None  # the target runs asynchronously

    eventually(lambda: privacy.is_redacted(stack.repo.get_work_order(wo_id)))
    done = stack.repo.get_work_order(wo_id, with_timeline=True)
    assert done.timeline[-1].event == "redacted" and done.created_at == then
    assert "555-010-6666" not in done.description
    eventually(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount") == 0)
