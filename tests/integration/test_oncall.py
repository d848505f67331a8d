"""The on-call chain on the local cloud (wiring; the rules are proved in tests/service/test_oncall.py): a rota
set through /ops/config, an emergency pages the primary (notification function -> a one-time schedule), the
primary does not acknowledge, the schedule fires (visit-timers function) and the secondary is paged, and the
secondary acknowledges with an SMS reply (AWS End User Messaging -> SNS -> the inbound SMS function); the
primary's link (the API) shows the page and, used late, leaves the first acknowledgement standing."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.integration.conftest import P, U, eventually
from tests.integration.test_lifecycle import record, submit
from tests.integration.test_sms import eum, sms_to

pytestmark = pytest.mark.integration

DANA, DANA_EMAIL = "+15550100001", "oncall@maple.example.com"  # Maple Court's on-call contact in the demo
SAM = "+15550100002"
# Level 0 is the demo's own on-call contact, so other tests' emergencies at Maple Court page who they expect.
ROTA = {"levels": [
    {"contact": {"name": "Dana On-Call", "phone": DANA, "email": DANA_EMAIL}, "label": "primary"},
    {"contact": {"name": "Sam On-Call", "phone": SAM, "email": "sam-oncall@maple.example.com"}, "label": "secondary"},
]}


def set_rota(api, ops_headers, property_id: str) -> None:
    path = f"/ops/config/on-call-rotas/{property_id}"
    shown = api.get(path, headers=ops_headers)
    version = shown.json()["version"] if shown.status == 200 else 0
    changed = api.call("PUT", path, json_body=ROTA, headers={**ops_headers, "If-Match": str(version)})
    assert changed.status == 200, changed.body


def test_unacknowledged_page_moves_to_the_secondary_who_acknowledges_by_sms(stack, api, ops_headers, clock):
    set_rota(api, ops_headers, P("prop-maple"))
    wo_id = submit(api, U("unit-maple-2a"), "Smoke is coming out of the electrical panel, it smells like burning")["id"]
    try:
        page = eventually(lambda: [m for m in sms_to(stack, DANA) if wo_id in m["body"]])
        assert "You are on call (primary): acknowledge within 5 min - reply ACK" in page[0]["body"]
        token = re.search(r"http://testserver/oncall/(olk1_[A-Za-z0-9_-]{43})", page[0]["body"]).group(1)
        shown = api.get(f"/oncall/{token}")  # opening the link shows the page and acknowledges nothing
        assert shown.status == 200 and shown.json()["allowed_actions"] == ["acknowledge"]
        assert not [m for m in sms_to(stack, SAM) if wo_id in m["body"]]

        # The primary does not answer: the ack-by schedule fires and the secondary is paged.
        due = datetime.fromisoformat(record(api, ops_headers, wo_id)["page"]["due_at"])
        fired = stack.cloud.advance_clock((due - stack.cloud.clock_now()).total_seconds() + 1)
        assert any(f.schedule == f"{wo_id}-oncall-0" and f.error is None for f in fired)
        second = eventually(lambda: [m for m in sms_to(stack, SAM) if wo_id in m["body"]])
        assert "You are on call (secondary)" in second[0]["body"]

        # The secondary replies ACK by SMS: recorded, with the time it took.
        eum(stack, SAM, "ack")
        acked = eventually(lambda: (r := record(api, ops_headers, wo_id))["page"]["acked_at"] and r)
        assert (acked["page"]["acked_by"], acked["page"]["acked_level"], acked["page"]["acked_via"]) == (
            "Sam On-Call (secondary)", 1, "sms")
        assert acked["page"]["acknowledged_after_s"] >= 0
        events = [e["event"] for e in acked["timeline"]]
        assert events.count("oncall_paged") == 2 and events.count("oncall_acknowledged") == 1
        eventually(lambda: any(m["body"].startswith(f"Thanks: you acknowledged emergency {wo_id}")
                               for m in sms_to(stack, SAM)))
        late = api.post(f"/oncall/{token}/acknowledge")  # the primary's link, afterwards: the first ACK stands
        assert late.status == 200 and late.json()["acknowledged_by"] == "Sam On-Call (secondary)"
    finally:
        api.post(f"/ops/work-orders/{wo_id}/cancel", {"reason": "on-call test done"}, headers=ops_headers)
