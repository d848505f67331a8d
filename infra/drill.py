"""The full local drill (`opslayer drill --full`, the benchmarks, tests/integration/test_drill.py): the
cloud drill's engine (shared/drill_runner.py) on the local demo portfolio, reading the local outbox, plus
the scenarios only a local stack can play - a Buildium webhook (the fake Buildium), an IoT leak alert, and
requests by text (the demo's Twilio secret) - and checking that bills reach the fake Buildium."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared.drill_runner import (  # noqa: F401 - the names the benchmarks and tests import from here
    APPROVAL_LINK,
    JOB_LINK,
    OPEN,
    STATUS_LINK,
    DrillFailure,
    DrillRun,
    Step,
    drill_invoice,
    key_auth,
)


class Drill(DrillRun):
    """The drill on a running local stack (`make local`, `--embedded`): the demo's units and vendors, the
    outbox for messages (/_local routes), and six scenarios."""

    tenant_email_in_request = True
    billed_step = "billed in Buildium, closed"

    def __init__(self, base_url: str, step_budget_s: float = 10.0, poll_s: float = 0.02) -> None:
        import requests

        session = requests.Session()
        self.demo = session.get(f"{base_url.rstrip('/')}/_local/demo", timeout=15).json()
        super().__init__(base_url, key_auth(self.demo["ops_key"]), step_budget_s=step_budget_s, poll_s=poll_s,
                         session=session)
        self.records = {"units": self.demo["units"], "vendors": self.demo["vendors"]}

    def messages(self) -> list[dict[str, Any]]:
        """Every SMS and email the local cloud sent, oldest first."""
        return [{**m, "key": f"{m['to']}|{m['sent_at']}|{m['body']}"}
                for m in reversed(self.get("/_local/outbox")["messages"])]

    def bill_check(self, scenario: str, t0: float, number: str, closed: dict[str, Any]) -> None:
        self.step(scenario, "bill recorded by Buildium", t0, lambda: self._bill_posted(number))

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

    def _confirmed_by_text(self, phone: str) -> None:
        reply = self.text(phone, "YES")
        if "visit is confirmed" not in reply:
            raise DrillFailure(f"the YES text did not confirm the proposed visit: {reply[:200]}")

    def _ops_find(self, source: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + self.step_budget_s
        while time.monotonic() < deadline:
            cursor = None
            while True:  # every page: a long-lived local stack holds many work orders of a source
                page = self.get(f"/ops/work-orders?source={source}&limit=200" + (f"&cursor={cursor}" if cursor else ""))
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

    def run(self, scenarios: list[Callable[[DrillRun], Any]] | None = None) -> bool:
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
