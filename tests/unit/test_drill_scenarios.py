"""The drill's issue-11 scenarios against a stub API (a small scripted stack answering the drill's routes):
no vendor accepts -> ops reassign the in-house technician -> closed with a skipped bill; the primary on-call
does not acknowledge -> the secondary is paged and acknowledges -> ops cancel. What the drill does, in what
order, and that it fails when the stack does not do its part."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from shared import drill_runner
from shared.drill_runner import DrillRun, key_auth, no_vendor_accepts, secondary_acknowledges

WO = "wo-0123456789abcdef"
BASE = "https://api.example.test/prod"


def token(name: str) -> str:
    return "olk1_" + name.ljust(43, "x")


def contact(name: str, phone: str) -> dict[str, Any]:
    return {"name": name, "phone": phone, "email": f"{phone}@drill.invalid"}


SETUP = {
    "property": {"id": "drill-property"},
    "units": [{"id": "drill-unit-a", "tenant": contact("Drill Tenant A", "+15550990010")},
              {"id": "drill-unit-b", "tenant": contact("Drill Tenant B", "+15550990011")}],
    "vendors": [{"id": "drill-vendor-1", "name": "Drill Vendor 1", "phone": "+15550990021"},
                {"id": "drill-vendor-2", "name": "Drill Vendor 2", "phone": "+15550990022"}],
    "technicians": [{"id": "drill-technician", "name": "Drill Technician", "phone": "+15550990030"}],
    "on_call_rota": {"levels": [
        {"contact": contact("Drill On-Call", "+15550990001"), "label": "primary", "ack_within_minutes": 1},
        {"contact": contact("Drill On-Call Secondary", "+15550990002"), "label": "secondary",
         "ack_within_minutes": 1}]},
    "changed": [], "messages_since": "0000"}
EVENTS = ["received", "triaged", "offered", "scheduled", "completed", "verified", "notified"]


class StubStack(requests.Session):
    """One work order at a time, moved on by the drill's calls as the stack would; its messages in a sink.
    `secondary_after`: how many looks at the sink after the primary's page until the secondary is paged
    (None: never)."""

    def __init__(self, secondary_after: int | None = 2) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        self.sink: list[dict[str, Any]] = []
        self.wo: dict[str, Any] = {}
        self.secondary_after = secondary_after
        self.looks_since_page = 0

    def say(self, to: str, body: str) -> None:
        self.sink.append({"id": f"{len(self.sink) + 1:04d}", "to": to, "channel": "sms", "body": body})

    def event(self, name: str) -> None:
        self.wo["timeline"].append({"event": name})

    def offer(self, vendor: dict[str, Any]) -> None:
        self.wo.update(status="offered", offered_to=vendor["id"])
        self.say(vendor["phone"], f"New job {WO}. Accept or decline: {BASE}/vendor/jobs/{token(vendor['id'])}")

    def request(self, method, url, **kw):  # type: ignore[override]
        path = url.removeprefix(BASE).split("?")[0]
        body = json.loads(kw["data"]) if kw.get("data") else kw.get("json")
        self.calls.append((method, path, body, dict(kw.get("headers") or {})))
        status, answer = self.answer(method, path, url, body or {})
        resp = requests.Response()
        resp.status_code, resp._content = status, json.dumps(answer).encode()
        resp.headers["content-type"] = "application/json"
        return resp

    def answer(self, method: str, path: str, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        vendors = {v["id"]: v for v in SETUP["vendors"] + SETUP["technicians"]}
        tech, levels = SETUP["technicians"][0], SETUP["on_call_rota"]["levels"]
        tenant = SETUP["units"][0 if not self.wo or self.wo["unit_id"] == "drill-unit-a" else 1]["tenant"]
        status_link = f"{BASE}/requests/{WO}?token={token('tenant')}"
        match (method, path):
            case ("POST", "/ops/drill/setup"):
                return 200, SETUP
            case ("GET", "/ops/drill/messages"):
                if self.wo.get("page") and self.wo["page"]["level"] == 0 and self.secondary_after is not None:
                    self.looks_since_page += 1
                    if self.looks_since_page > self.secondary_after:  # the primary's ack-by passed
                        self.wo["page"]["level"] = 1
                        self.say(levels[1]["contact"]["phone"],
                                 f"EMERGENCY {WO}. You are on call (secondary): {BASE}/oncall/{token('level1')}")
                since = url.rsplit("since=", 1)[1]
                fresh = [m for m in self.sink if m["id"] > since]
                return 200, {"messages": fresh, "next": fresh[-1]["id"] if fresh else since}
            case ("POST", "/requests"):
                emergency = "Sparks" in body["description"]
                tenant = next(u["tenant"] for u in SETUP["units"] if u["id"] == body["unit_id"])
                self.wo = {"id": WO, "unit_id": body["unit_id"], "status": "triaged",
                           "description": body["description"], "priority": "emergency" if emergency else "routine",
                           "candidates": [], "timeline": [], "page": None, "vendor_id": None, "bill_pms_id": None}
                for name in ("received", "triaged", "offered"):
                    self.event(name)
                self.say(tenant["phone"], f"We got your request {WO}.")
                if emergency:
                    self.wo["page"] = {"level": 0, "acked_by": None, "acked_level": None, "acked_via": None,
                                       "acked_at": None}
                    self.say(levels[0]["contact"]["phone"],
                             f"EMERGENCY {WO}. You are on call (primary): {BASE}/oncall/{token('level0')}")
                self.wo["candidates"] = [v["id"] for v in SETUP["vendors"]]
                self.offer(SETUP["vendors"][0])
                return 202, {"id": WO, "status": "received"}
            case ("GET", p) if p == f"/ops/work-orders/{WO}":
                return 200, self.wo
            case ("GET", p) if p == f"/ops/work-orders/{WO}/record":
                return 200, {"invoice": {"invoice_number": "NO_-cdef", "total": "210.47", "currency": "USD"}}
            case ("POST", p) if p == f"/ops/work-orders/{WO}/steer" and body["action"] == "reassign":
                assert self.wo["status"] == "escalated"
                self.wo.update(status="accepted", vendor_id=body["technician_id"])
                self.event("reassigned")
                self.say(tech["phone"], f"Job {WO} assigned to you. Schedule: {BASE}/vendor/jobs/{token('tech')}")
                self.say(tenant["phone"], f"{tech['name']} is now handling your request {WO}.")
                return 202, {"id": WO, "status": "accepted"}
            case ("POST", p) if p == f"/ops/work-orders/{WO}/cancel" or (
                    p == f"/ops/work-orders/{WO}/steer" and body["action"] == "cancel"):
                self.wo["status"] = "cancelled"
                return 200, {"id": WO, "status": "cancelled"}
            case ("GET", p) if p.startswith("/oncall/"):
                page = self.wo["page"]
                return 200, {"acknowledged": bool(page["acked_at"]), "acknowledged_by": page["acked_by"],
                             "allowed_actions": [] if page["acked_at"] else ["acknowledge"]}
            case ("POST", p) if p.startswith("/oncall/") and p.endswith("/acknowledge"):
                level = int(p.split("/")[2].removeprefix("olk1_level")[0])
                who = levels[level]
                self.wo["page"].update(acked_by=f"{who['contact']['name']} ({who['label']})", acked_level=level,
                                       acked_via="link", acked_at="2026-06-10T14:01:02.5+00:00")
                return 200, {"acknowledged_at": "2026-06-10T14:01:02.500000Z", "acknowledged_by": who["label"]}
            case ("GET", p) if p.startswith("/vendor/jobs/"):
                party = p.split("/")[3].removeprefix("olk1_").rstrip("x")
                if party == "tech":
                    return 200, {"allowed_actions": ["schedule", "propose"], "availability": [{"start": "x"}]}
                offered = self.wo["status"] == "offered" and self.wo["offered_to"] == party
                return 200, {"allowed_actions": ["accept", "decline"] if offered else []}
            case ("POST", p) if p.endswith("/decline"):
                declined = p.split("/")[3].removeprefix("olk1_").rstrip("x")
                following = self.wo["candidates"].index(declined) + 1
                if following < len(self.wo["candidates"]):
                    self.offer(vendors[self.wo["candidates"][following]])
                else:
                    self.wo["status"] = "escalated"
                    self.event("escalated")
                return 200, {"status": self.wo["status"]}
            case ("POST", p) if p.endswith("/schedule"):
                self.wo["status"] = "scheduled"
                self.say(tenant["phone"], f"{tech['name']} will come to fix {WO} tomorrow 9-12.")
                return 200, {}
            case ("POST", p) if p.endswith("/checkin"):
                return 200, {}
            case ("POST", p) if p.endswith("/complete"):
                self.wo["status"] = "completed"
                self.say(tenant["phone"], f"Is it fixed? {WO} {status_link}")
                return 200, {}
            case ("POST", p) if p == f"/requests/{WO}/feedback":
                for name in EVENTS[3:]:
                    self.event(name)
                self.wo["status"] = "invoice_awaited"
                return 200, {}
            case ("POST", p) if p.endswith("/invoice"):
                self.wo.update(status="closed", bill_pms_id="drill-skipped-inv-1")
                return 202, {}
        return 404, {"error": "not_found", "path": path}


def drill(stack: StubStack, **kw: Any) -> DrillRun:
    run = DrillRun(BASE, key_auth("k"), session=stack, poll_s=0, **kw)
    run.prepare()
    return run


def ops_calls(stack: StubStack) -> list[tuple[str, str, Any]]:
    return [(m, p, b) for m, p, b, h in stack.calls if p.startswith("/ops/work-orders/") and m == "POST"
            and h.get("X-Ops-Key") == "k"]


def test_no_vendor_accepts_declines_every_offer_then_ops_reassign_the_technician_who_closes_it() -> None:
    stack = StubStack()
    run = drill(stack)
    no_vendor_accepts(run)
    assert all(s.ok for s in run.steps)
    declines = [p for m, p, _, _ in stack.calls if p.endswith("/decline")]
    assert declines == [f"/vendor/jobs/{token(v)}/decline" for v in ("drill-vendor-1", "drill-vendor-2")]
    # Ops reassign through the signed steer route, naming the drill's technician.
    [(_, path, body)] = ops_calls(stack)
    assert path == f"/ops/work-orders/{WO}/steer" and body["action"] == "reassign"
    assert body["technician_id"] == "drill-technician" and "vendor_id" not in body
    # The technician acts through its own link (not a vendor's): schedule, check in, complete, invoice.
    acted = [p.rsplit("/", 1)[1] for m, p, _, _ in stack.calls if m == "POST" and token("tech") in p]
    assert acted == ["schedule", "checkin", "complete", "invoice"]
    names = [s.name for s in run.steps]
    assert names.index("escalated: every vendor declined") < names.index("ops reassign to the technician") \
        < names.index("technician completes") < names.index("billed (skipped), closed")
    assert run.invoices[0]["bill_id"] == "drill-skipped-inv-1"


def test_no_vendor_accepts_fails_when_the_job_never_escalates() -> None:
    stack = StubStack()
    run = drill(stack, step_budget_s=0.3)
    original = stack.answer

    def no_escalation(method: str, path: str, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path.endswith("/decline") and token("drill-vendor-2") in path:
            return 200, {}  # the last decline is taken, but the job stays offered
        return original(method, path, url, body)

    stack.answer = no_escalation  # type: ignore[method-assign]
    with pytest.raises(drill_runner.DrillFailure, match="next offer, or escalated: neither an offer nor an escal"):
        no_vendor_accepts(run)
    assert not ops_calls(stack)  # nobody was reassigned


def test_secondary_acknowledges_leaves_the_primary_waiting_and_records_the_secondary() -> None:
    stack = StubStack(secondary_after=3)
    run = drill(stack)
    secondary_acknowledges(run)
    assert all(s.ok for s in run.steps), run.table()
    # The primary's link is never pressed; the secondary's is opened and then pressed.
    oncall = [(m, p.split("/")[2][:11]) for m, p, _, _ in stack.calls if p.startswith("/oncall/")]
    assert oncall == [("GET", "olk1_level1"), ("POST", "olk1_level1")]
    assert stack.wo["page"]["acked_by"] == "Drill On-Call Secondary (secondary)"
    [(_, path, body)] = ops_calls(stack)
    assert path == f"/ops/work-orders/{WO}/steer" and body["action"] == "cancel" and stack.wo["status"] == "cancelled"
    names = [s.name for s in run.steps]
    assert names[-4:] == ["secondary acknowledges (link)", "page record: acknowledged by the secondary",
                          "ops cancel (drill repair not needed)", "cancelled"]


def test_the_wait_for_the_secondary_has_the_ack_by_as_its_budget_and_a_missing_page_fails_the_drill(
        monkeypatch) -> None:
    # The wait is the primary's ack-by plus a grace, beyond the step budget ...
    monkeypatch.setattr(drill_runner, "PAGE_GRACE_S", 0.05)
    levels = SETUP["on_call_rota"]["levels"]
    monkeypatch.setitem(levels[0], "ack_within_minutes", 0)
    stack = StubStack(secondary_after=None)
    run = drill(stack, step_budget_s=0.5)
    outcome = drill_runner.play(run, [secondary_acknowledges])
    assert outcome["failed"].startswith("secondary_acknowledges: secondary paged after the primary's ack-by: "
                                        "secondary on-call was not paged")
    # ... and a failed run cancels its work order (its chain would page on).
    assert outcome["cleaned_up"] == {WO: "cancelled"}
