"""The fire drill: plays requests end to end as a tenant and a vendor would - only through the HTTP
API and the links found in the outbox - and checks that every automated step fired in time."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from shared.domain.links import TOKEN_PATTERN

JOB_LINK = re.compile(rf"https?://\S+?/vendor/jobs/({TOKEN_PATTERN})")
STATUS_LINK = re.compile(rf"https?://\S+?/requests/(wo-[0-9a-f]+)\?token=({TOKEN_PATTERN})")
APPROVAL_LINK = re.compile(rf"https?://\S+?/approvals/({TOKEN_PATTERN})")


OPEN = ("received", "triaged", "offered", "accepted", "scheduled", "completed", "reopened")
PDF = b"%PDF-1.4\n% Opslayer drill invoice\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class DrillFailure(Exception):
    pass


def drill_invoice(number: str) -> dict[str, Any]:
    """A clean invoice: one hour of labour, parts, a trip charge and tax, with a PDF."""
    import base64

    return {"invoice_number": number, "invoice_date": datetime.now(UTC).date().isoformat(), "currency": "USD",
            "lines": [{"kind": "labour", "description": "Technician, 1 h", "quantity": "1", "unit_price": "95.00"},
                      {"kind": "material", "description": "Parts", "quantity": "1", "unit_price": "38.00"},
                      {"kind": "trip", "description": "Trip charge", "quantity": "1", "unit_price": "75.00"},
                      {"kind": "tax", "description": "Sales tax on parts", "quantity": "1", "unit_price": "2.47"}],
            "total": "210.47", "attachment": {"filename": f"{number}.pdf", "content_type": "application/pdf",
                                              "data_base64": base64.b64encode(PDF).decode()}}


@dataclass
class Step:
    scenario: str
    name: str
    at: datetime
    latency_ms: float
    ok: bool
    note: str = ""


@dataclass
class Drill:
    base_url: str
    step_budget_s: float = 10.0
    poll_s: float = 0.02
    steps: list[Step] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)  # the closed orders' invoices, for the report
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.demo = self.get("/_local/demo")
        self._seen: set[str] = set()

    # ------------------------------------------------------------ http
    def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        url = path if path.startswith("http") else self.base_url + path
        resp = self.session.request(method, url, timeout=15, **kw)
        if resp.status_code != expect:
            raise DrillFailure(f"{method} {path.split('?')[0]} answered {resp.status_code}, expected {expect}: "
                               f"{resp.text[:300]}")
        return resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else resp

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    # ------------------------------------------------------------ steps
    def step(self, scenario: str, name: str, since: float, action: Callable[[], Any]) -> Any:
        try:
            result = action()
            ok, note = True, ""
        except DrillFailure as exc:
            result, ok, note = None, False, str(exc)
        latency = (time.perf_counter() - since) * 1000
        if ok and latency > self.step_budget_s * 1000:
            ok, note = False, f"late: {latency:.0f} ms > {self.step_budget_s:.0f} s budget"
        self.steps.append(Step(scenario, name, datetime.now(UTC), latency, ok, note))
        if not ok:
            raise DrillFailure(f"{scenario}: {name}: {note}")
        return result

    def wait_message(self, to: str, must_contain: str, also: str = "") -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            for msg in self.get("/_local/outbox")["messages"]:
                key = f"{msg['to']}|{msg['sent_at']}|{msg['body']}"
                if msg["to"] == to and must_contain in msg["body"] and also in msg["body"] and key not in self._seen:
                    self._seen.add(key)
                    return msg
            time.sleep(self.poll_s)
        raise DrillFailure(f"no message to {to} containing {must_contain!r} {also!r}")

    def run_request(self, scenario: str, unit: dict[str, Any], description: str, decline_first: bool = False,
                    reopen_once: bool = False) -> str:
        """A tenant's web request, from the form to the verified fix."""
        tenant = unit["tenant"]
        t0 = time.perf_counter()
        tomorrow = (datetime.now(UTC).astimezone() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        windows = [{"start": (tomorrow + timedelta(hours=h)).isoformat(),
                    "end": (tomorrow + timedelta(hours=h + 3)).isoformat()} for h in (0, 24)]
        created = self.step(scenario, "request accepted (202)", t0, lambda: self.call(
            "POST", "/requests", expect=202, json={"unit_id": unit["id"], "name": tenant["name"],
                                                  "phone": tenant["phone"], "email": tenant["email"],
                                                  "description": description, "availability": windows}))
        wo_id = created["id"]
        self.step(scenario, "tenant acknowledged (sms)", t0, lambda: self.wait_message(tenant["phone"], wo_id))
        self.fix(scenario, t0, wo_id, tenant, decline_first=decline_first, reopen_once=reopen_once)
        return wo_id

    def run_pms(self, unit: dict[str, Any]) -> str:
        """A resident request created in Buildium: webhook in, lifecycle, status written back."""
        scenario, tenant, t0 = "pms", unit["tenant"], time.perf_counter()
        emitted = self.step(scenario, "Buildium request + signed webhook", t0, lambda: self._emit(unit))
        task_id = str(emitted["task_id"])
        found = self.step(scenario, "work order from the Buildium task", t0,
                          lambda: self._ops_find("pms", lambda w: w["pms"]["task_id"] == task_id))
        wo_id = found["id"]
        self.step(scenario, "tenant acknowledged (sms)", t0, lambda: self.wait_message(tenant["phone"], wo_id))
        self.fix(scenario, t0, wo_id, tenant)
        self.step(scenario, "status written back to Buildium", t0, lambda: self._written_back(task_id, "Closed"))
        return wo_id

    def run_iot(self, sensor: dict[str, Any]) -> str:
        """A leak sensor alert published on IoT Core becomes an emergency work order."""
        scenario, t0 = "iot", time.perf_counter()
        unit = next(u for u in self.demo["units"] if u["id"] == sensor["unit_id"])
        started = datetime.now(UTC).isoformat()
        self.step(scenario, "leak alert published (IoT Core)", t0, lambda: self._publish(sensor))
        found = self.step(scenario, "work order from the alert", t0, lambda: self._ops_find(
            "iot", lambda w: w["unit_id"] == unit["id"] and w["created_at"] >= started))
        wo_id = found["id"]
        self.fix(scenario, t0, wo_id, unit["tenant"])
        return wo_id

    def texted(self, scenario: str, t0: float, unit: dict[str, Any], body: str) -> str:
        """A request by text through the Twilio-compatible webhook; returns its work order id."""
        started = datetime.now(UTC).isoformat()
        self.step(scenario, "text received (signed webhook)", t0, lambda: self.text(unit["tenant"]["phone"], body))
        found = self.step(scenario, "work order from the text", t0, lambda: self._ops_find(
            "sms", lambda w: w["unit_id"] == unit["id"] and w["created_at"] >= started))
        return found["id"]

    def run_sms(self, unit: dict[str, Any]) -> str:
        """A request and its follow-up, all by text message through the Twilio-compatible webhook."""
        scenario, tenant, t0 = "sms", unit["tenant"], time.perf_counter()
        wo_id = self.texted(scenario, t0, unit, "The hallway light flickers and buzzes all evening")
        self.step(scenario, "tenant acknowledged (sms)", t0, lambda: self.wait_message(tenant["phone"], wo_id))
        self.fix(scenario, t0, wo_id, tenant, answer_by_sms=True)
        return wo_id

    def run_unsure(self, unit: dict[str, Any]) -> str:
        """A text triage is unsure about: the tenant is asked at once, answers YES, on-call is paged and the
        job goes on as an emergency, to the verified fix and the bill."""
        scenario, tenant, t0 = "unsure", unit["tenant"], time.perf_counter()
        wo_id = self.texted(scenario, t0, unit, "The heat is not working")
        self.step(scenario, "safety question asked (sms)", t0,
                  lambda: self.wait_message(tenant["phone"], wo_id, "Reply YES or NO"))
        self.step(scenario, "tenant texts YES", t0, lambda: self._safety_yes(tenant["phone"], wo_id))
        self.step(scenario, "now an emergency", t0,
                  lambda: self._ops_until(wo_id, lambda r: r.get("priority") == "emergency"))
        self.fix(scenario, t0, wo_id, tenant, answer_by_sms=True)
        return wo_id

    def _safety_yes(self, phone: str, wo_id: str) -> None:
        reply = self.text(phone, "YES")
        if "emergency" not in reply or wo_id not in reply:
            raise DrillFailure(f"the YES text did not answer the safety question: {reply[:200]}")

    def text(self, phone: str, body: str) -> str:
        """POST /channels/sms as Twilio would (form body, X-Twilio-Signature); returns the TwiML."""
        import base64
        import hashlib
        import hmac
        import uuid

        params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": phone, "To": "+15550199999", "Body": body}
        url = self.demo["sms_webhook_url"]
        data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
        signature = base64.b64encode(hmac.new(self.demo["twilio_auth_token"].encode(), data.encode(),
                                              hashlib.sha1).digest()).decode()
        resp = self.call("POST", "/channels/sms", data=params, headers={"X-Twilio-Signature": signature})
        return resp.text

    def fix(self, scenario: str, t0: float, wo_id: str, tenant: dict[str, Any], decline_first: bool = False,
            reopen_once: bool = False, answer_by_sms: bool = False) -> None:
        """From triage to the tenant's verified fix, as the vendor and the tenant would do it."""
        vendors = {v["id"]: v for v in self.demo["vendors"]}
        triaged = self.step(scenario, "triaged", t0, lambda: self._ops_until(wo_id, lambda r: r.get("priority")))
        if triaged["priority"] == "emergency":
            self.step(scenario, "on-call paged", t0, lambda: self._on_call_page(wo_id))
        first_vendor = ""
        for round_no in range(2 if reopen_once else 1):
            job = self.step(scenario, "vendor offered (link in sms)", t0, lambda: self._offer(wo_id, vendors))
            if decline_first and round_no == 0:
                self.step(scenario, "vendor declines", t0, lambda j=job: self.call(
                    "POST", f"/vendor/jobs/{j['token']}/decline", json={"reason": "fully booked today"}))
                job = self.step(scenario, "next vendor offered", t0, lambda: self._offer(wo_id, vendors))
            if round_no == 1:
                self.step(scenario, "recall goes to the same vendor", t0,
                          lambda j=job, v=first_vendor: self._same(j, v))
            first_vendor = job["vendor_id"]
            self.step(scenario, "vendor accepts", t0,
                      lambda j=job: self.call("POST", f"/vendor/jobs/{j['token']}/accept"))
            self.step(scenario, "tenant told who is coming", t0,
                      lambda j=job: self.wait_message(tenant["phone"], wo_id, j["vendor_name"]))
            self.schedule(scenario, t0, wo_id, job, tenant, answer_by_sms)
            self.step(scenario, "tenant told when", t0,
                      lambda: self.wait_message(tenant["phone"], wo_id, "will come to"))
            self.step(scenario, "vendor on site (check-in)", t0, lambda j=job: self.call(
                "POST", f"/vendor/jobs/{j['token']}/checkin", json={}))
            self.step(scenario, "vendor completes", t0, lambda j=job: self.call(
                "POST", f"/vendor/jobs/{j['token']}/complete", json={"notes": "Fixed and tested."}))
            question = self.step(scenario, "tenant asked if fixed", t0,
                                 lambda: self.wait_message(tenant["phone"], wo_id, "Is it fixed"))
            link = STATUS_LINK.search(question["body"])
            if not link:
                raise DrillFailure("the follow-up message has no status link")
            resolved = not (reopen_once and round_no == 0)
            if answer_by_sms:
                self.step(scenario, "tenant texts YES", t0, lambda: self._texted_answer(tenant["phone"]))
                continue
            self.step(scenario, "tenant answers " + ("fixed" if resolved else "not fixed"), t0,
                      lambda r=resolved, m=link: self.call(
                          "POST", f"/requests/{m.group(1)}/feedback?token={m.group(2)}", json={"resolved": r}))
        final = self.step(scenario, "verified", t0,
                          lambda: self._ops_until(wo_id, lambda r: r["status"] not in OPEN))
        self.step(scenario, "ops record complete", t0, lambda: self._ops_record(wo_id, final))
        self.money(scenario, t0, wo_id, job)

    def money(self, scenario: str, t0: float, wo_id: str, job: dict[str, Any]) -> None:
        """The vendor invoices from the job link; checks, coding and approval run; the bill lands in Buildium."""
        self.step(scenario, "vendor asked for the invoice", t0, lambda: self._ops_until(
            wo_id, lambda r: r["status"] == "invoice_awaited"))
        number = f"{scenario[:3].upper()}-{wo_id[-6:]}"
        self.step(scenario, "vendor invoices (JSON + PDF)", t0, lambda: self.call(
            "POST", f"/vendor/jobs/{job['token']}/invoice", expect=202, json=drill_invoice(number)))
        coded = self.step(scenario, "checked and coded", t0, lambda: self._ops_until(
            wo_id, lambda r: r["status"] in ("coded", "approved", "billed", "closed")))
        if coded["status"] == "coded":  # a check failed (a recall should be free): ops decide by their link
            self.step(scenario, "ops approve by link", t0, lambda: self._ops_approve(wo_id))
        closed = self.step(scenario, "billed in Buildium, closed", t0, lambda: self._ops_until(
            wo_id, lambda r: r["status"] == "closed" and r.get("bill_pms_id")))
        self.step(scenario, "bill recorded by Buildium", t0, lambda: self._bill_posted(number))
        record = self.get(f"/ops/work-orders/{wo_id}/record", headers=self.ops)
        self.invoices.append({"scenario": scenario, "work_order_id": wo_id, "bill_id": closed["bill_pms_id"],
                              **record["invoice"]})

    def schedule(self, scenario: str, t0: float, wo_id: str, job: dict[str, Any], tenant: dict[str, Any],
                 answer_by_sms: bool) -> None:
        """The vendor picks one of the tenant's windows; without any, proposes a time the tenant confirms."""
        details = self.get(f"/vendor/jobs/{job['token']}", headers={"Accept": "application/json"})
        if isinstance(details.get("availability"), list) and details["availability"]:
            self.step(scenario, "vendor picks a tenant window", t0, lambda: self.call(
                "POST", f"/vendor/jobs/{job['token']}/schedule", json={"window": 0}))
            return
        start = (datetime.now(UTC).astimezone() + timedelta(hours=2)).replace(microsecond=0)
        self.step(scenario, "vendor proposes a time", t0, lambda: self.call(
            "POST", f"/vendor/jobs/{job['token']}/propose",
            json={"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}))
        asked = self.step(scenario, "tenant asked to confirm", t0,
                          lambda: self.wait_message(tenant["phone"], wo_id, "proposes to visit"))
        if answer_by_sms:
            self.step(scenario, "tenant texts YES to the time", t0, lambda: self._confirmed_by_text(tenant["phone"]))
            return
        link = STATUS_LINK.search(asked["body"])
        if not link:
            raise DrillFailure("the proposal message has no status link")
        self.step(scenario, "tenant confirms the time", t0, lambda: self.call(
            "POST", f"/requests/{link.group(1)}/visit?token={link.group(2)}", json={"action": "confirm"}))

    def _confirmed_by_text(self, phone: str) -> None:
        reply = self.text(phone, "YES")
        if "visit is confirmed" not in reply:
            raise DrillFailure(f"the YES text did not confirm the proposed visit: {reply[:200]}")

    # ------------------------------------------------------------ helpers
    @property
    def ops(self) -> dict[str, str]:
        return {"X-Ops-Key": self.demo["ops_key"]}

    def _ops_until(self, wo_id: str, done: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = self.get(f"/ops/work-orders/{wo_id}", headers=self.ops)
            if done(last):
                return last
            time.sleep(self.poll_s)
        raise DrillFailure(f"work order stayed {last.get('status')!r}")

    def _ops_find(self, source: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            cursor = None
            while True:  # every page: a long-lived local stack holds many work orders of a source
                page = self.get(f"/ops/work-orders?source={source}&limit=200" + (f"&cursor={cursor}" if cursor else ""),
                                headers=self.ops)
                found = next((wo for wo in page["work_orders"] if match(wo)), None)
                if found:
                    return found
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            time.sleep(self.poll_s)
        raise DrillFailure(f"no {source} work order appeared")

    def _emit(self, unit: dict[str, Any]) -> dict[str, Any]:
        result = self.call("POST", "/_local/pms/emit", json={
            "event": "Task.Created", "unit_id": unit["id"], "title": "Dishwasher leaking",
            "text": "Resident called: the dishwasher leaks onto the kitchen floor."})
        if not result["delivered"] or any(s >= 300 for s in result["delivered"]):
            raise DrillFailure(f"webhook not accepted: {result['delivered']}")
        return result

    def _written_back(self, task_id: str, status: str) -> None:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            for call in self.get("/_local/pms/requests")["requests"]:
                if call["method"] == "PUT" and call["path"] == f"/v1/tasks/residentrequests/{task_id}" \
                        and (call.get("body") or {}).get("TaskStatus") == status:
                    return
            time.sleep(self.poll_s)
        raise DrillFailure(f"Buildium task {task_id} never became {status}")

    def _publish(self, sensor: dict[str, Any]) -> None:
        import json

        import boto3

        payload = {"sensor_id": sensor["sensor_id"], "type": "leak", "severity": "high", "value": 1,
                   "ts": datetime.now(UTC).isoformat()}
        topic = f"opslayer/drill/sensors/{sensor['sensor_id']}/alerts"
        if not self.demo.get("aws_endpoint"):  # an in-process cloud: publish through its local route
            self.call("POST", "/_local/iot/publish", json={"topic": topic, "payload": payload})
            return
        iot = boto3.client("iot-data", endpoint_url=self.demo["aws_endpoint"], region_name=self.demo["region"],
                           aws_access_key_id="local", aws_secret_access_key="local")
        iot.publish(topic=topic, qos=1, payload=json.dumps(payload).encode())

    def _on_call_page(self, wo_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            for msg in self.get("/_local/outbox")["messages"]:
                if "EMERGENCY" in msg["body"] and wo_id in msg["body"]:
                    return msg
            time.sleep(self.poll_s)
        raise DrillFailure("on-call was not paged")

    def _offer(self, wo_id: str, vendors: dict[str, dict[str, Any]]) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        phones = {v["phone"]: v for v in vendors.values()}
        while time.monotonic() < deadline:
            for msg in self.get("/_local/outbox")["messages"]:
                key = f"{msg['to']}|{msg['sent_at']}|{msg['body']}"
                if msg["to"] in phones and wo_id in msg["body"] and "Accept or decline" in msg["body"] \
                        and key not in self._seen:
                    match = JOB_LINK.search(msg["body"])
                    if match:
                        job = self.get(f"/vendor/jobs/{match.group(1)}", headers={"Accept": "application/json"})
                        if "accept" in job["allowed_actions"]:  # the link really offers this job
                            self._seen.add(key)
                            vendor = phones[msg["to"]]
                            return {"token": match.group(1), "vendor_id": vendor["id"], "vendor_name": vendor["name"]}
            time.sleep(self.poll_s)
        raise DrillFailure("no vendor offer with an acceptable job link")

    def _ops_approve(self, wo_id: str) -> None:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            for msg in self.get("/_local/outbox")["messages"]:
                link = APPROVAL_LINK.search(msg["body"])
                if link and wo_id in msg["body"]:  # approval links go to approvers only (here: ops)
                    view = self.get(f"/approvals/{link.group(1)}", headers={"Accept": "application/json"})
                    if view["allowed_actions"]:
                        self.call("POST", f"/approvals/{link.group(1)}/approve", json={})
                        return
            time.sleep(self.poll_s)
        raise DrillFailure("no approval link reached ops")

    def _bill_posted(self, number: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            for call in self.get("/_local/pms/requests")["requests"]:
                if call["method"] == "POST" and call["path"] == "/v1/bills" \
                        and (call.get("body") or {}).get("ReferenceNumber") == number and call["status"] < 300:
                    return call
            time.sleep(self.poll_s)
        raise DrillFailure(f"no bill {number} reached Buildium")

    def _texted_answer(self, phone: str) -> None:
        reply = self.text(phone, "yes it's fixed, thanks")
        if "closed this repair" not in reply:
            raise DrillFailure(f"the YES text was not taken as the follow-up answer: {reply[:200]}")

    @staticmethod
    def _same(job: dict[str, Any], previous: str) -> None:
        if job["vendor_id"] != previous:
            raise DrillFailure(f"recall offered to {job['vendor_id']}, not the previous vendor {previous}")

    def _ops_record(self, wo_id: str, final: dict[str, Any]) -> None:
        record = self.get(f"/ops/work-orders/{wo_id}", headers={"X-Ops-Key": self.demo["ops_key"]})
        events = [e["event"] for e in record["timeline"]]
        missing = [e for e in ("received", "triaged", "offered", "accepted", "scheduled", "completed", "verified",
                               "notified") if e not in events]
        if record["status"] in OPEN or missing:
            raise DrillFailure(f"ops record incomplete: status {record['status']}, missing {missing}")

    def run(self) -> bool:
        units = self.demo["units"]
        try:
            self.run_request("emergency", units[0], "Water is pouring through the kitchen ceiling from upstairs, "
                                                    "the floor is flooding!")
            self.run_request("routine", units[1], "The bathroom faucet drips all night, no leak anywhere else.",
                             decline_first=True, reopen_once=True)
            self.run_pms(units[8])
            self.run_iot(self.demo["sensors"][0])
            self.run_sms(units[10])
            self.run_unsure(units[3])
        except DrillFailure:
            return False
        return all(s.ok for s in self.steps)

    def invoice_report(self) -> str:
        """Each closed order's invoice: total, coding (and the rule that chose it), approval and every check."""
        lines = []
        for inv in self.invoices:
            coding, approval = inv.get("coding") or {}, inv.get("approval") or {}
            lines.append(f"{inv['scenario']:<10} {inv['work_order_id']}  invoice {inv['invoice_number']}  "
                         f"{inv['total']} {inv['currency']}  -> Buildium bill {inv['bill_id']}")
            lines.append(f"{'':<10} coded: GL {coding.get('gl_account_number')} {coding.get('gl_account_name')}, "
                         f"cost center {coding.get('cost_center')}, owner {coding.get('owner')} "
                         f"(rule {coding.get('rule')}); approval: {approval.get('route')} - {approval.get('reason')}")
            lines.append(f"{'':<10} checks: " + "; ".join(
                f"{c['rule']} {'ok' if c['passed'] else 'FAILED'}" for c in inv.get("checks") or []))
        return "\n".join(lines)

    def table(self) -> str:
        """One row per step: when it was seen, its own latency, and the time since the request."""
        lines = [f"{'scenario':<10} {'step':<34} {'at (UTC)':<13} {'step':>9} {'since start':>12}  result"]
        previous: dict[str, float] = {}
        for s in self.steps:
            own = s.latency_ms - previous.get(s.scenario, 0.0)
            previous[s.scenario] = s.latency_ms
            lines.append(f"{s.scenario:<10} {s.name:<34} {s.at:%H:%M:%S.%f}"[:-3].ljust(59)
                         + f" {own:>6.0f} ms {s.latency_ms:>9.0f} ms  {'ok' if s.ok else 'FAIL ' + s.note}")
        return "\n".join(lines)
