"""Each handler driven by the sample events in events/, invoked as Lambda invokes it, on the local cloud."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.events import load_event
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration


def invoke(stack, function: str, event) -> dict:
    resp = stack.cloud.client("lambda").invoke(FunctionName=stack.cloud.physical(function),
                                               Payload=json.dumps(event).encode())
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


def created(stack) -> tuple[str, str]:
    resp = invoke(stack, "ApiFunction", load_event("api/create_request"))
    body = json.loads(resp["body"])
    return body["id"], parse_qs(urlparse(body["status_url"]).query)["token"][0]


def test_api_health(stack):
    resp = invoke(stack, "ApiFunction", load_event("api/health"))
    assert resp["statusCode"] == 200 and json.loads(resp["body"])["status"] == "ok"
    assert resp["headers"]["Referrer-Policy"] == "no-referrer"


def test_api_create_is_idempotent_on_the_key_and_status_is_readable(stack):
    first, token = created(stack)
    second, _ = created(stack)
    assert first == second
    view = invoke(stack, "ApiFunction", load_event("api/get_request", work_order_id=first, token=token))
    assert view["statusCode"] == 200 and json.loads(view["body"])["id"] == first


def test_api_invalid_request_names_every_bad_field(stack):
    resp = invoke(stack, "ApiFunction", load_event("api/create_request_invalid"))
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 422 and body["error"] == "invalid_input"
    assert {d["field"] for d in body["details"]} == {"phone", "description"}


def test_api_vendor_action_with_a_bad_token_is_403(stack):
    resp = invoke(stack, "ApiFunction", load_event("api/vendor_accept", token="v1.bogus.token"))
    assert resp["statusCode"] == 403 and json.loads(resp["body"])["error"] == "forbidden"


def executions_named(stack, name: str) -> int:
    sfn = stack.cloud.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=stack.cloud.physical("WorkOrderStateMachine"))["executions"]
    return sum(e["name"] == name for e in listed)


def test_intake_replay_is_a_no_op_and_poison_is_reported(stack):
    wo_id, _ = created(stack)
    eventually(lambda: executions_named(stack, wo_id) == 1)
    assert invoke(stack, "IntakeFunction", load_event("sqs/work_order_received", work_order_id=wo_id)) == \
        {"batchItemFailures": []}
    assert executions_named(stack, wo_id) == 1
    event = load_event("sqs/work_order_received_with_poison", work_order_id=wo_id)
    resp = invoke(stack, "IntakeFunction", event)
    assert resp == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def test_triage_replay_keeps_the_first_decision_and_a_stale_wait_is_tolerated(stack):
    wo_id, _ = created(stack)
    eventually(lambda: executions_named(stack, wo_id) == 1)
    eventually(lambda: stack.repo.get_work_order(wo_id).offer)  # the lifecycle's own triage step is done
    first = invoke(stack, "TriageFunction", load_event("stepfunctions/triage", work_order_id=wo_id,
                                                       task_token="stale-token"))
    again = invoke(stack, "TriageFunction", load_event("stepfunctions/triage", work_order_id=wo_id,
                                                       task_token="stale-token"))
    assert first == again and first["trade"] == "plumbing" and first["timeouts"]["offer"] > 0
    assert first["dispatch"] == {"count": 0, "index": 0}  # offered already: not ranked again
    assert [e.event for e in stack.repo.get_work_order(wo_id, with_timeline=True).timeline].count("triaged") == 1


def test_dispatch_rank_counts_candidates(stack):
    wo_id, _ = created(stack)
    eventually(lambda: executions_named(stack, wo_id) == 1)
    eventually(lambda: stack.repo.get_work_order(wo_id).offer)
    resp = invoke(stack, "DispatchFunction", load_event("stepfunctions/dispatch_rank", work_order_id=wo_id))
    assert resp == {"count": 2, "index": 0}  # the two plumbers serving the north area


def test_notification_replay_sends_nothing_twice(stack):
    wo_id, _ = created(stack)
    # The first candidate depends on the unit's history (a recent plumbing job there is a recall): ask the offer.
    offer = eventually(lambda: stack.repo.get_work_order(wo_id).offer)
    phone = stack.repo.get_vendor(offer.vendor_id).phone

    def vendor_sms() -> list[dict]:
        return [m for m in stack.cloud.outbox() if m["to"] == phone and wo_id in m["body"]]

    eventually(lambda: len(vendor_sms()) == 1)
    resp = invoke(stack, "NotificationFunction", load_event("sqs/vendor_offered", work_order_id=wo_id))
    assert resp == {"batchItemFailures": []}
    assert len(vendor_sms()) == 1


def test_notification_for_an_unknown_work_order_fails_only_that_record(stack):
    event = load_event("sqs/vendor_offered", work_order_id="wo-does-not-exist")
    resp = invoke(stack, "NotificationFunction", event)
    assert resp == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_workflow_await_after_the_person_acted_resumes_at_once(stack):
    # A stale token: the work order is not waiting for a schedule, so the step tries to resume and
    # tolerates a wait that is already over.
    wo_id, _ = created(stack)
    resp = invoke(stack, "WorkflowFunction", load_event("stepfunctions/workflow_await_schedule",
                                                        work_order_id=wo_id, task_token="stale-token"))
    assert resp == {"parked": True}


def test_unit_request_form_behind_api_gateway_keeps_the_stage_in_links(stack, mint):

    unit_id = "unit-b1002"
    token = mint(unit_id, "unit", unit_id, 600)
    resp = invoke(stack, "ApiFunction", load_event("api/unit_request_form", unit_id=unit_id, key=token))
    assert resp["statusCode"] == 200 and resp["headers"]["Content-Type"].startswith("text/html")
    assert f'action="/dev/units/{unit_id}/request?key=' in resp["body"] and 'lang="es"' in resp["body"]
    forged = invoke(stack, "ApiFunction", load_event("api/unit_request_form", unit_id=unit_id, key="v1.x.y"))
    assert forged["statusCode"] == 403 and "<html" in forged["body"]


def test_invoicing_steps_are_safe_to_replay_out_of_order(stack):
    wo_id, _ = created(stack)  # not verified yet: nothing to wait for, remind or code
    resp = invoke(stack, "InvoicingFunction", load_event("stepfunctions/invoicing_await_invoice",
                                                         work_order_id=wo_id, task_token="stale-token"))
    assert resp == {"parked": True}  # resumed at once (tolerating a wait that is already over)
    for stage in ("invoice", "approval"):
        assert invoke(stack, "InvoicingFunction", load_event("stepfunctions/invoicing_remind", work_order_id=wo_id,
                                                             stage=stage)) == {"again": True}
    raw = stack.cloud.client("lambda").invoke(FunctionName=stack.cloud.physical("InvoicingFunction"),
                                              Payload=json.dumps(load_event("stepfunctions/invoicing_code",
                                                                            work_order_id=wo_id,
                                                                            task_token="stale-token")).encode())
    error = json.loads(raw["Payload"].read())
    assert raw.get("FunctionError") and error["errorType"] == "InvalidTransition"  # the ASL records the failure


def test_visit_timers_ignore_a_stale_visit_and_fail_only_an_unknown_work_order(stack):
    # A work order with no visit yet: a planning event or a firing for visit time 1 is stale and does nothing.
    wo_id, _ = created(stack)
    planned = invoke(stack, "VisitTimersFunction", load_event("sqs/visit_scheduled", work_order_id=wo_id,
                                                              window_version="1"))
    assert planned == {"batchItemFailures": []}
    fired = invoke(stack, "VisitTimersFunction", load_event("scheduler/visit_timer", work_order_id=wo_id,
                                                            kind="arrive", window_version="1"))
    assert fired == {"outcome": "stale"}
    event = load_event("sqs/visit_scheduled", work_order_id="wo-does-not-exist", window_version="1")
    resp = invoke(stack, "VisitTimersFunction", event)
    assert resp == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_photo_check_keeps_a_real_image_once(stack):
    from pathlib import Path

    wo_id, _ = created(stack)
    jpeg = (Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "sink.jpg").read_bytes()
    bucket, key = stack.cloud.physical("PhotosBucket"), f"uploads/{wo_id}/tenant/handler-test-0123456789"
    stack.cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=jpeg)  # S3 announces it too
    event = load_event("eventbridge/s3_object_created", bucket=bucket, key=key)
    assert invoke(stack, "PhotoCheckFunction", event)["outcome"] in ("accepted", "duplicate", "gone")
    assert invoke(stack, "PhotoCheckFunction", event)["outcome"] in ("duplicate", "gone")
    assert stack.cloud.wait_idle(timeout=20)
    assert [p.upload_key for p in stack.repo.get_work_order(wo_id).photos] == [key]
    other = load_event("eventbridge/s3_object_created", bucket="someone-elses-bucket", key=key)
    assert invoke(stack, "PhotoCheckFunction", other) == {"outcome": "ignored"}


def test_email_inbound_reads_the_raw_message_the_rule_stored(stack):
    import uuid
    from email.message import EmailMessage

    message_id = f"handlertest{uuid.uuid4().hex}"
    raw = EmailMessage()
    raw["From"], raw["To"] = "Jade Wilson <jade@tenant.example.com>", "maintenance@example.com"
    raw["Subject"] = f"Closet door off its track {message_id[-6:]}"
    raw.set_content("The sliding closet door came off its track.")
    stack.cloud.client("s3").put_object(Bucket=stack.cloud.physical("InboundEmailBucket"),
                                        Key=f"inbound-email/{message_id}", Body=raw.as_bytes())
    event = load_event("ses/inbound_email", message_id=message_id,
                       function_arn=stack.cloud.resources["EmailInboundFunction"])
    assert invoke(stack, "EmailInboundFunction", event) == {"processed": 1}
    assert invoke(stack, "EmailInboundFunction", event) == {"processed": 1}  # SES retried: dropped
    unit = stack.ids.unit("unit-harbor-202")
    opened = [w for w in stack.repo.list_work_orders(property_id=stack.repo.get_unit(unit).property_id)
              if message_id[-6:] in w.description]
    assert len(opened) == 1 and opened[0].source.value == "email"


def test_preventive_records_a_verified_job_once_per_event(stack):
    wo_id, _ = created(stack)
    event = load_event("eventbridge/work_order_verified_preventive", work_order_id=wo_id, asset_id="asset-unknown")
    assert invoke(stack, "PreventiveFunction", event) == {"asset": "unchanged"}  # no such asset: nothing moves
    assert invoke(stack, "PreventiveFunction", event) == {"asset": "duplicate"}  # EventBridge delivered it again
    notes = [e for e in stack.repo.get_work_order(wo_id, with_timeline=True).timeline if e.event == "asset_serviced"]
    assert len(notes) == 1 and "asset-unknown" in notes[0].detail
