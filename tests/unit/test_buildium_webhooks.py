"""Buildium webhook verification and parsing.

The expected signatures are literals computed once, outside this code, with
``printf '%s' "<timestamp>.<compact body>" | openssl dgst -sha256 -hmac <secret> -binary | base64``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.pms.buildium_webhooks import BuildiumWebhookVerifier, sign
from shared.pms.models import EntityKind, Operation
from shared.pms.port import WebhookRejected

SECRET = "whsec_test_123"
TS = "1700000000"
NOW = 1700000000.0

RENTAL_CREATED = (
    '{"EventName":"Rental.Created","EventDateTime":"2022-12-22T16:18:20.876772Z","AccountId":123456,"PropertyId":78910}'
)
RENTAL_CREATED_SIG = "9vIQs/5e/NCDV27ilDN2/wx/BjcPlX+hCAl/bmXDzQk="
WORK_ORDER_UPDATED = (
    '{"EventName":"WorkOrder.Updated","EventDateTime":"2023-11-14T09:30:00.1234567Z","AccountId":123456,'
    '"WorkOrderId":4242}'
)
WORK_ORDER_UPDATED_SIG = "18y2b4HJ1FpzuxvJpUwmyK15yTCD+NMl0UbSHoEg8+M="
TASK_UNICODE = (
    '{"EventName":"Task.Created","EventDateTime":"2024-01-02T03:04:05.0000001Z","AccountId":98765,"TaskId":77,'
    '"TaskType":"ResidentRequest","Note":"café"}'
)
TASK_UNICODE_SIG = "IXiiUUmpllq7w8hTbK2DB71mJC4GtCXkz3y+kJRV4U0="


def headers(signature: str, timestamp: str = TS) -> dict[str, str]:
    return {"buildium-webhook-timestamp": timestamp, "buildium-webhook-signature": signature}


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "expected"),
    [
        (SECRET, TS, RENTAL_CREATED, RENTAL_CREATED_SIG),
        (SECRET, TS, WORK_ORDER_UPDATED, WORK_ORDER_UPDATED_SIG),
        ("another-secret", "1700000123", TASK_UNICODE, TASK_UNICODE_SIG),
    ],
)
def test_sign_matches_independently_computed_vectors(secret: str, timestamp: str, body: str, expected: str) -> None:
    assert sign(secret, timestamp, body) == expected
    assert sign(secret, int(timestamp), body.encode("utf-8")) == expected


def test_compact_body_verifies_and_parses() -> None:
    event = BuildiumWebhookVerifier(SECRET).verify(headers(RENTAL_CREATED_SIG), RENTAL_CREATED.encode(), now=NOW)
    assert event is not None
    assert event.pms == "buildium"
    assert event.name == "Rental.Created"
    assert (event.kind, event.operation, event.pms_id) == (EntityKind.PROPERTY, Operation.CREATED, "78910")
    assert event.account_id == "123456"
    assert event.occurred_at == datetime(2022, 12, 22, 16, 18, 20, 876772, tzinfo=UTC)
    assert event.parent_ids == {}


def test_pretty_printed_delivery_verifies_against_the_signed_compact_form() -> None:
    pretty = json.dumps(json.loads(RENTAL_CREATED), indent=2).encode()
    assert b"\n" in pretty and b": " in pretty
    event = BuildiumWebhookVerifier(SECRET).verify(headers(RENTAL_CREATED_SIG), pretty, now=NOW)
    assert event is not None and event.pms_id == "78910"


def test_unicode_is_signed_unescaped_and_seven_digit_fraction_parses() -> None:
    verifier = BuildiumWebhookVerifier("another-secret")
    event = verifier.verify(headers(TASK_UNICODE_SIG, "1700000123"), TASK_UNICODE.encode("utf-8"), now=1700000123)
    assert event is not None
    assert (event.kind, event.pms_id, event.account_id) == (EntityKind.TASK, "77", "98765")
    assert event.occurred_at == datetime(2024, 1, 2, 3, 4, 5, 0, tzinfo=UTC)
    # The same event delivered ASCII-escaped ("caf\u00e9") re-serialises to the signed UTF-8 form.
    escaped = json.dumps(json.loads(TASK_UNICODE), ensure_ascii=True).encode()
    assert b"\\u00e9" in escaped
    assert verifier.verify(headers(TASK_UNICODE_SIG, "1700000123"), escaped, now=1700000123) is not None


def test_header_names_are_case_insensitive() -> None:
    mixed = {"Buildium-Webhook-Timestamp": TS, "BUILDIUM-WEBHOOK-SIGNATURE": WORK_ORDER_UPDATED_SIG}
    event = BuildiumWebhookVerifier(SECRET).verify(mixed, WORK_ORDER_UPDATED.encode(), now=NOW)
    assert event is not None
    assert (event.kind, event.operation, event.pms_id) == (EntityKind.WORK_ORDER, Operation.UPDATED, "4242")
    assert event.occurred_at == datetime(2023, 11, 14, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hdrs", "body", "reason"),
    [
        ({}, RENTAL_CREATED, "missing_signature"),
        ({"buildium-webhook-timestamp": TS}, RENTAL_CREATED, "missing_signature"),
        ({"buildium-webhook-signature": RENTAL_CREATED_SIG}, RENTAL_CREATED, "missing_signature"),
        (headers(RENTAL_CREATED_SIG, "17e8"), RENTAL_CREATED, "stale_timestamp"),
        (headers(RENTAL_CREATED_SIG, "-5"), RENTAL_CREATED, "stale_timestamp"),
        (headers(RENTAL_CREATED_SIG, "\u0661\u0667\u0660\u0660"), RENTAL_CREATED, "stale_timestamp"),
        # tampered body: another property id under the original signature
        (headers(RENTAL_CREATED_SIG), RENTAL_CREATED.replace("78910", "78911"), "bad_signature"),
        # tampered signature: one character changed
        (headers("8" + RENTAL_CREATED_SIG[1:]), RENTAL_CREATED, "bad_signature"),
        # tampered timestamp (still fresh): the signature covers it
        (headers(RENTAL_CREATED_SIG, "1700000001"), RENTAL_CREATED, "bad_signature"),
        # the signature of another event
        (headers(WORK_ORDER_UPDATED_SIG), RENTAL_CREATED, "bad_signature"),
        (headers(RENTAL_CREATED_SIG), '{"EventName": "Rental.Created",', "malformed_body"),
    ],
)
def test_rejections(hdrs: dict[str, str], body: str, reason: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        BuildiumWebhookVerifier(SECRET).verify(hdrs, body.encode(), now=NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (NOW + 301, "stale_timestamp"),
        (NOW - 31, "future_timestamp"),
    ],
)
def test_timestamp_window(now: float, reason: str) -> None:
    verifier = BuildiumWebhookVerifier(SECRET)
    with pytest.raises(WebhookRejected) as caught:
        verifier.verify(headers(RENTAL_CREATED_SIG), RENTAL_CREATED.encode(), now=now)
    assert caught.value.reason == reason
    # the edges of the window are accepted
    assert verifier.verify(headers(RENTAL_CREATED_SIG), RENTAL_CREATED.encode(), now=NOW + 300) is not None
    assert verifier.verify(headers(RENTAL_CREATED_SIG), RENTAL_CREATED.encode(), now=NOW - 30) is not None


def test_malformed_json_with_valid_signature_over_raw_bytes() -> None:
    raw = b"not json at all"
    with pytest.raises(WebhookRejected) as caught:
        BuildiumWebhookVerifier(SECRET).verify(headers(sign(SECRET, TS, raw)), raw, now=NOW)
    assert caught.value.reason == "malformed_body"


def test_signed_event_missing_its_id_is_malformed() -> None:
    body = '{"EventName":"Lease.Updated","EventDateTime":"2024-01-02T03:04:05Z","AccountId":1}'
    with pytest.raises(WebhookRejected) as caught:
        BuildiumWebhookVerifier(SECRET).verify(headers(sign(SECRET, TS, body)), body.encode(), now=NOW)
    assert caught.value.reason == "malformed_body"


def test_wrong_account() -> None:
    verifier = BuildiumWebhookVerifier(SECRET, account_id="999")
    with pytest.raises(WebhookRejected) as caught:
        verifier.verify(headers(RENTAL_CREATED_SIG), RENTAL_CREATED.encode(), now=NOW)
    assert caught.value.reason == "wrong_account"
    assert BuildiumWebhookVerifier(SECRET, account_id="123456").verify(
        headers(RENTAL_CREATED_SIG), RENTAL_CREATED.encode(), now=NOW
    )


def _event(name: str, **ids: object) -> str:
    return json.dumps(
        {"EventName": name, "EventDateTime": "2025-03-04T05:06:07.1234567Z", "AccountId": 42, **ids},
        separators=(",", ":"),
    )


@pytest.mark.parametrize(
    ("name", "ids", "kind", "operation", "pms_id", "parents"),
    [
        ("Rental.Updated", {"PropertyId": 1}, EntityKind.PROPERTY, Operation.UPDATED, "1", {}),
        ("RentalUnit.Created", {"UnitId": 2}, EntityKind.UNIT, Operation.CREATED, "2", {}),
        (
            "RentalUnit.Updated",
            {"UnitId": 2, "PropertyId": 1},
            EntityKind.UNIT,
            Operation.UPDATED,
            "2",
            {"property": "1"},
        ),
        ("Lease.Deleted", {"LeaseId": 3}, EntityKind.LEASE, Operation.DELETED, "3", {}),
        (
            "Lease.MoveOut.Created",
            {"LeaseId": 3, "TenantId": 4},
            EntityKind.LEASE,
            Operation.UPDATED,
            "3",
            {"tenant": "4"},
        ),
        ("LeaseTenant.Created", {"TenantId": 4}, EntityKind.TENANT, Operation.CREATED, "4", {}),
        ("Vendor.Updated", {"VendorId": 5}, EntityKind.VENDOR, Operation.UPDATED, "5", {}),
        ("VendorCategory.Deleted", {"VendorCategoryId": 6}, EntityKind.VENDOR_CATEGORY, Operation.DELETED, "6", {}),
        ("GLAccount.Created", {"GLAccountId": 7}, EntityKind.GL_ACCOUNT, Operation.CREATED, "7", {}),
        ("Task.Created", {"TaskId": 8, "TaskType": "ResidentRequest"}, EntityKind.TASK, Operation.CREATED, "8", {}),
        (
            "Task.History.Created",
            {"TaskId": 8, "TaskHistoryId": 80},
            EntityKind.TASK,
            Operation.UPDATED,
            "8",
            {"task_history": "80"},
        ),
        ("WorkOrder.Deleted", {"WorkOrderId": 9}, EntityKind.WORK_ORDER, Operation.DELETED, "9", {}),
        ("Bill.Updated", {"BillId": 10}, EntityKind.BILL, Operation.UPDATED, "10", {}),
    ],
)
def test_every_event_family_parses(
    name: str, ids: dict[str, int], kind: EntityKind, operation: Operation, pms_id: str, parents: dict[str, str]
) -> None:
    body = _event(name, **ids)
    event = BuildiumWebhookVerifier(SECRET).verify(headers(sign(SECRET, TS, body)), body.encode(), now=NOW)
    assert event is not None
    assert (event.name, event.kind, event.operation, event.pms_id) == (name, kind, operation, pms_id)
    assert event.account_id == "42"
    assert event.parent_ids == parents
    assert event.occurred_at == datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("Applicant.Created", {"ApplicantId": 1}),
        ("Association.Updated", {"PropertyId": 1}),
        ("Bill.Payment.Created", {"PaymentId": 1, "BillIds": [2, 3]}),
        ("Vendor.Transaction.Created", {"TransactionId": 1, "TransactionType": "Bill", "VendorId": 5}),
        ("Rental.MeterReading.Created", {"PropertyId": 1, "ReadingDate": "2025-01-01", "MeterType": "Water"}),
        ("Rental.Archived", {"PropertyId": 1}),
    ],
)
def test_unhandled_events_are_none(name: str, ids: dict[str, object]) -> None:
    body = _event(name, **ids)
    assert BuildiumWebhookVerifier(SECRET).verify(headers(sign(SECRET, TS, body)), body.encode(), now=NOW) is None
