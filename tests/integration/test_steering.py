"""Ops steering on the local cloud: a dead letter redriven to its source queue and processed there; a failed
lifecycle retried at the step it failed in, up to its next wait."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from shared.domain.workorder import TimelineEntry, WorkOrder, new_work_order_id
from tests.integration.conftest import UNITS, U, eventually
from tests.integration.test_lifecycle import record, submit, wait_status

pytestmark = pytest.mark.integration


def _dead_letter_depth(api, ops_headers, queue: str) -> int:
    resp = api.get("/ops/dlq", headers=ops_headers)
    assert resp.status == 200, resp.body
    return {q["queue"]: q for q in resp.json()["queues"]}[queue]["depth"]


def test_a_dead_lettered_intake_message_is_redriven_and_starts_the_lifecycle(stack, api, ops_headers):
    # A request persisted whose WorkOrderReceived the intake consumer kept failing on: the event is in the
    # intake DLQ (as SQS put it there after maxReceiveCount), no lifecycle runs.
    unit = UNITS[U("unit-harbor-201")]
    now = datetime.now(UTC)
    wo = WorkOrder(id=new_work_order_id(), property_id=unit.property_id, unit_id=unit.id, tenant=unit.tenant,
                   description="Hallway light flickers", created_at=now, updated_at=now)
    stack.repo.create_work_order(wo, TimelineEntry(at=now, event="received", detail="Request received via web",
                                                     actor="tenant"))
    envelope = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "WorkOrderReceived",
                "source": "opslayer.workorders", "time": now.isoformat(), "detail": {
                    "work_order_id": wo.id, "status": "received", "event_key": f"{wo.id}:received"}}
    stack.cloud.client("sqs").send_message(QueueUrl=stack.cloud.physical("IntakeDLQ"),
                                           MessageBody=json.dumps(envelope))
    assert _dead_letter_depth(api, ops_headers, "intake") >= 1

    started = api.post("/ops/dlq/intake/redrive", headers=ops_headers)

    assert started.status == 202, started.body
    assert started.json()["queue"] == "intake" and started.json()["task"]
    eventually(lambda: record(api, ops_headers, wo.id)["status"] in ("offered", "accepted", "escalated"))
    assert record(api, ops_headers, wo.id)["execution_arn"].endswith(f":{wo.id}")
    assert _dead_letter_depth(api, ops_headers, "intake") == 0
    assert api.post("/ops/dlq/intake/redrive", headers=ops_headers).status == 422  # nothing left to move
    assert api.post("/ops/dlq/nope/redrive", headers=ops_headers).status == 404
    audit = api.get("/ops/audit", headers=ops_headers).json()["actions"]
    mine = [a for a in audit if a["action"] == "dlq_redrive" and a.get("task") == started.json()["task"]]
    assert mine and mine[0]["actor"] == "ops:key" and mine[0]["target"] == "intake"
    assert api.get("/ops/dlq").status == 401


def test_a_failed_lifecycle_is_retried_and_reaches_its_next_wait(stack, api, ops_headers):
    wo_id = submit(api, U("unit-maple-1a"), "Bathroom sink drains slowly")["id"]
    wait_status(api, ops_headers, wo_id, "offered")
    first_offer = eventually(lambda: (wo := stack.repo.get_work_order(wo_id)).offer and wo.offer.task_token)
    # The offer step fails (an error no Retry covers): RecordFailure escalates it, keeping where it failed.
    stack.cloud.client("stepfunctions").send_task_failure(taskToken=first_offer, error="Vendor.SystemDown",
                                                          cause="test: the offer step failed")
    wait_status(api, ops_headers, wo_id, "escalated")
    assert stack.repo.get_work_order(wo_id).failed_in.value == "offered"

    retried = api.post(f"/ops/work-orders/{wo_id}/retry", headers=ops_headers)

    assert retried.status == 202, retried.body
    body = retried.json()
    assert body["resume_at"] == "dispatch" and body["execution_arn"].endswith(f":{wo_id}-retry-1")
    # The new execution dispatches again and parks at the next offer's wait.
    new_offer = eventually(lambda: (wo := stack.repo.get_work_order(wo_id)).status.value == "offered"
                           and wo.offer and wo.offer.task_token != first_offer and wo.offer.task_token)
    assert new_offer
    sfn = stack.cloud.client("stepfunctions")
    assert sfn.describe_execution(executionArn=body["execution_arn"])["status"] == "RUNNING"
    again = api.post(f"/ops/work-orders/{wo_id}/retry", headers=ops_headers)
    assert again.status == 409 and again.json()["error"] == "conflict"
    timeline = record(api, ops_headers, wo_id)["timeline"]
    assert [(e["event"], e["actor"]) for e in timeline if e["event"] == "retried"] == [("retried", "ops:key")]
    assert any(a["action"] == "work_order_retry" and a["target"] == wo_id
               for a in api.get("/ops/audit", headers=ops_headers).json()["actions"])
