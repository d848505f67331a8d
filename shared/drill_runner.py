"""The fire drill over HTTP: plays work orders end to end as a tenant and a vendor would - through the public
API and the links in their messages - and checks that every automated step fired in time.

It needs nothing but the API: the drill's own records come from `POST /ops/drill/setup` and the messages
from the drill sink (`GET /ops/drill/messages`; shared/services/drill.py), so the same code runs against a
local stack and a deployed one. Ops routes are signed (`ops_auth`: SigV4 with IAM credentials for a deployed
stack, the X-Ops-Key locally); tenant and vendor routes are public or carry the links' tokens.

Used by `opslayer drill` (infra/cli.py; infra/drill.py adds the local-only scenarios) and by the daily
Drill function (functions/drill.py). A scenario is a function of the run (`SCENARIOS`): add one there."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from shared.domain.links import TOKEN_PATTERN
from shared.observability import alarm_count, logger, stage_metric
from shared.services.drill import DRILL_BILL_PREFIX

JOB_LINK = re.compile(rf"https?://\S+?/vendor/jobs/({TOKEN_PATTERN})")
STATUS_LINK = re.compile(rf"https?://\S+?/requests/(wo-[0-9a-f]+)\?token=({TOKEN_PATTERN})")
APPROVAL_LINK = re.compile(rf"https?://\S+?/approvals/({TOKEN_PATTERN})")
ONCALL_LINK = re.compile(rf"https?://\S+?/oncall/({TOKEN_PATTERN})")

OPEN = ("received", "triaged", "offered", "accepted", "scheduled", "completed", "reopened")
# How long past a level's ack-by its check may come and the next page reach the sink (a deployed Scheduler
# one-time schedule fires within about a minute of its time).
PAGE_GRACE_S = 120.0
PDF = b"%PDF-1.4\n% Opslayer drill invoice\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# method, url, body, headers -> the headers to send (signed for an ops route)
OpsAuth = Callable[[str, str, bytes | None, dict[str, str]], dict[str, str]]


class DrillFailure(Exception):
    pass


def key_auth(ops_key: str) -> OpsAuth:
    """Ops routes of a stack in key mode (a local stack): the X-Ops-Key header."""
    return lambda method, url, body, headers: {**headers, "X-Ops-Key": ops_key}


def sigv4_auth(credentials: Any, region: str) -> OpsAuth:
    """Ops routes of a deployed stack (IAM-authorized): SigV4 for execute-api with botocore credentials
    (a Lambda role's, or the operator's)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    def sign(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def drill_invoice(number: str) -> dict[str, Any]:
    """A clean invoice: one hour of labour, parts, a trip charge and tax, with a PDF."""
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
class DrillRun:
    """One drill against `base_url`. `step_budget_s`: how long after its scenario's start a step may be
    reached (else it is late, and the drill fails); `deadline_s`: the whole run's budget (the scheduled
    drill stops, and fails, before its function would time out)."""

    # The drill tenants' emails are undeliverable on purpose (.invalid): the request leaves the email out and
    # the unit's known one is used. The local demo's tenants give theirs.
    tenant_email_in_request = False

    base_url: str
    ops_auth: OpsAuth
    step_budget_s: float = 60.0
    poll_s: float = 0.5
    deadline_s: float | None = None
    session: requests.Session = field(default_factory=requests.Session)
    steps: list[Step] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)  # the closed orders' invoices, for the report

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._started = time.monotonic()
        self._seen: set[str] = set()
        self._inbox: list[dict[str, Any]] = []  # the sink's messages read so far, oldest first
        self._cursor = ""
        self.records: dict[str, Any] = {}
        self.work_orders: list[str] = []  # the work orders this run created, oldest first
        self.scenario_of: dict[str, str] = {}  # every work order the run played -> its scenario (KPI summary)
        self.cleaned_up: dict[str, str] = {}  # after a failure: work order -> how it was ended

    # ------------------------------------------------------------ the drill's world
    def prepare(self) -> None:
        """The drill's records (created where missing) and where its messages start in the sink."""
        self.records = self.call("POST", "/ops/drill/setup", json={})
        self._cursor = self.records["messages_since"]

    @property
    def units(self) -> list[dict[str, Any]]:
        return self.records["units"]

    @property
    def vendors(self) -> dict[str, dict[str, Any]]:
        return {v["id"]: v for v in self.records["vendors"]}

    @property
    def technician(self) -> dict[str, Any]:
        """The drill's in-house technician (ops assign it the job no vendor takes)."""
        return self.records["technicians"][0]

    @property
    def rota(self) -> list[dict[str, Any]]:
        """The drill property's on-call levels, primary first."""
        return self.records["on_call_rota"]["levels"]

    def messages(self) -> list[dict[str, Any]]:
        """Every message the drill's parties got so far (each with a unique `key`), oldest first."""
        while True:
            page = self.call("GET", "/ops/drill/messages?" + urlencode({"since": self._cursor}))
            self._inbox += [{**m, "key": m["id"]} for m in page["messages"]]
            if not page["messages"] or page["next"] == self._cursor:
                return self._inbox
            self._cursor = page["next"]

    # ------------------------------------------------------------ http
    def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        """One request; an /ops route is signed by `ops_auth`. Any other status than `expect` fails the step."""
        url = path if path.startswith("http") else self.base_url + path
        if path.startswith("/ops/"):
            body = None
            headers = dict(kw.pop("headers", None) or {})
            if "json" in kw:
                body = json.dumps(kw.pop("json")).encode()
                headers["Content-Type"] = "application/json"
            kw = {**kw, "data": body, "headers": self.ops_auth(method, url, body, headers)}
        resp = self.session.request(method, url, timeout=30, **kw)
        if resp.status_code != expect:
            raise DrillFailure(f"{method} {path.split('?')[0]} answered {resp.status_code}, expected {expect}: "
                               f"{resp.text[:300]}")
        return resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else resp

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    # ------------------------------------------------------------ steps
    def step(self, scenario: str, name: str, since: float, action: Callable[[], Any],
             budget_s: float | None = None) -> Any:
        """Run one step; it fails when `action` does, and when it is reached later than `budget_s` (default:
        the step budget) after its scenario's start `since`."""
        budget_s = self.step_budget_s if budget_s is None else budget_s
        try:
            result = action()
            ok, note = True, ""
        except DrillFailure as exc:
            result, ok, note = None, False, str(exc)
        except requests.RequestException as exc:  # the API unreachable is a failed drill, not a crash
            result, ok, note = None, False, f"{type(exc).__name__}: {str(exc)[:200]}"
        latency = (time.perf_counter() - since) * 1000
        if ok and latency > budget_s * 1000:
            ok, note = False, f"late: {latency:.0f} ms > {budget_s:.0f} s budget"
        self.steps.append(Step(scenario, name, datetime.now(UTC), latency, ok, note))
        if not ok:
            raise DrillFailure(f"{scenario}: {name}: {note}")
        return result

    def _until(self, what: str, probe: Callable[[], Any], budget_s: float | None = None) -> Any:
        """Poll `probe` until it returns something truthy, within the step budget (or `budget_s`) and the
        run's deadline."""
        deadline = time.monotonic() + (self.step_budget_s if budget_s is None else budget_s)
        if self.deadline_s is not None:
            deadline = min(deadline, self._started + self.deadline_s)
        while True:
            found = probe()
            if found:
                return found
            if time.monotonic() >= deadline:
                raise DrillFailure(what)
            time.sleep(self.poll_s)

    def wait_message(self, to: str, must_contain: str, also: str = "") -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            for msg in self.messages():
                if msg["to"] == to and must_contain in msg["body"] and also in msg["body"] \
                        and msg["key"] not in self._seen:
                    self._seen.add(msg["key"])
                    return msg
            return None

        return self._until(f"no message to {to} containing {must_contain!r} {also!r}", probe)

    # ------------------------------------------------------------ a request, from the form to the bill
    def run_request(self, scenario: str, unit: dict[str, Any], description: str, decline_first: bool = False,
                    reopen_once: bool = False) -> str:
        """A tenant's web request, from the form to the verified fix and the bill."""
        t0 = time.perf_counter()
        wo_id = self.request(scenario, t0, unit, description)
        self.fix(scenario, t0, wo_id, unit["tenant"], decline_first=decline_first, reopen_once=reopen_once)
        return wo_id

    def request(self, scenario: str, t0: float, unit: dict[str, Any], description: str) -> str:
        """The tenant's web request (202) and its acknowledgement by SMS; returns the work order id."""
        tenant = unit["tenant"]
        tomorrow = (datetime.now(UTC).astimezone() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        windows = [{"start": (tomorrow + timedelta(hours=h)).isoformat(),
                    "end": (tomorrow + timedelta(hours=h + 3)).isoformat()} for h in (0, 24)]
        body = {"unit_id": unit["id"], "name": tenant["name"], "phone": tenant["phone"],
                "description": description, "availability": windows}
        if self.tenant_email_in_request:
            body["email"] = tenant["email"]
        created = self.step(scenario, "request accepted (202)", t0,
                            lambda: self.call("POST", "/requests", expect=202, json=body))
        wo_id = created["id"]
        self.work_orders.append(wo_id)
        self.scenario_of[wo_id] = scenario
        self.step(scenario, "tenant acknowledged (sms)", t0, lambda: self.wait_message(tenant["phone"], wo_id))
        return wo_id

    def fix(self, scenario: str, t0: float, wo_id: str, tenant: dict[str, Any], decline_first: bool = False,
            reopen_once: bool = False, answer_by_sms: bool = False) -> None:
        """From triage to the tenant's verified fix, as the vendor and the tenant would do it; then the money."""
        self.scenario_of.setdefault(wo_id, scenario)  # made by a text, a webhook or a sensor (infra/drill.py)
        triaged = self.step(scenario, "triaged", t0, lambda: self._ops_until(wo_id, lambda r: r.get("priority")))
        if triaged["priority"] == "emergency":
            page = self.step(scenario, "on-call paged", t0, lambda: self._on_call_page(wo_id))
            self.step(scenario, "on-call acknowledges (link)", t0, lambda: self._acknowledge(page))
        first_vendor = ""
        for round_no in range(2 if reopen_once else 1):
            job = self.step(scenario, "vendor offered (link in sms)", t0, lambda: self._offer(wo_id))
            if decline_first and round_no == 0:
                self.step(scenario, "vendor declines", t0, lambda j=job: self.call(
                    "POST", f"/vendor/jobs/{j['token']}/decline", json={"reason": "fully booked today"}))
                job = self.step(scenario, "next vendor offered", t0, lambda: self._offer(wo_id))
            if round_no == 1:
                self.step(scenario, "recall goes to the same vendor", t0,
                          lambda j=job, v=first_vendor: self._same(j, v))
            first_vendor = job["vendor_id"]
            self.step(scenario, "vendor accepts", t0,
                      lambda j=job: self.call("POST", f"/vendor/jobs/{j['token']}/accept"))
            self.step(scenario, "tenant told who is coming", t0,
                      lambda j=job: self.wait_message(tenant["phone"], wo_id, j["vendor_name"]))
            self.visit(scenario, t0, wo_id, job, tenant, resolved=not (reopen_once and round_no == 0),
                       answer_by_sms=answer_by_sms)
        self.verified(scenario, t0, wo_id)
        self.money(scenario, t0, wo_id, job)

    def visit(self, scenario: str, t0: float, wo_id: str, job: dict[str, Any], tenant: dict[str, Any],
              resolved: bool = True, answer_by_sms: bool = False, who: str = "vendor") -> None:
        """The assignee (`who`: a vendor or the technician, acting through `job`'s link) schedules, checks in
        and completes; the tenant is told when and answers whether it is fixed."""
        self.schedule(scenario, t0, wo_id, job, tenant, answer_by_sms, who)
        self.step(scenario, "tenant told when", t0,
                  lambda: self.wait_message(tenant["phone"], wo_id, "will come to"))
        self.step(scenario, f"{who} on site (check-in)", t0, lambda: self.call(
            "POST", f"/vendor/jobs/{job['token']}/checkin", json={}))
        self.step(scenario, f"{who} completes", t0, lambda: self.call(
            "POST", f"/vendor/jobs/{job['token']}/complete", json={"notes": "Fixed and tested."}))
        question = self.step(scenario, "tenant asked if fixed", t0,
                             lambda: self.wait_message(tenant["phone"], wo_id, "Is it fixed"))
        link = STATUS_LINK.search(question["body"])
        if not link:
            raise DrillFailure("the follow-up message has no status link")
        if answer_by_sms:
            self.step(scenario, "tenant texts YES", t0, lambda: self._texted_answer(tenant["phone"]))
            return
        self.step(scenario, "tenant answers " + ("fixed" if resolved else "not fixed"), t0, lambda: self.call(
            "POST", f"/requests/{link.group(1)}/feedback?token={link.group(2)}", json={"resolved": resolved}))

    def verified(self, scenario: str, t0: float, wo_id: str, assigned: str = "accepted") -> None:
        """The tenant's answer verified the job, and its record has every stage (`assigned`: how the job got
        its vendor - "accepted" an offer, or "reassigned" by ops)."""
        final = self.step(scenario, "verified", t0,
                          lambda: self._ops_until(wo_id, lambda r: r["status"] not in OPEN))
        self.step(scenario, "ops record complete", t0, lambda: self._ops_record(wo_id, final, assigned))

    def money(self, scenario: str, t0: float, wo_id: str, job: dict[str, Any], who: str = "vendor") -> None:
        """The vendor (or technician) invoices from the job link; checks, coding and approval run; the bill is
        entered."""
        self.step(scenario, f"{who} asked for the invoice", t0, lambda: self._ops_until(
            wo_id, lambda r: r["status"] == "invoice_awaited"))
        number = f"{scenario[:3].upper()}-{wo_id[-6:]}"
        self.step(scenario, f"{who} invoices (JSON + PDF)", t0, lambda: self.call(
            "POST", f"/vendor/jobs/{job['token']}/invoice", expect=202, json=drill_invoice(number)))
        coded = self.step(scenario, "checked and coded", t0, lambda: self._ops_until(
            wo_id, lambda r: r["status"] in ("coded", "approved", "billed", "closed")))
        if coded["status"] == "coded":  # a check failed (a recall should be free): ops decide by their link
            self.step(scenario, "ops approve by link", t0, lambda: self._ops_approve(wo_id))
        closed = self.step(scenario, self.billed_step, t0, lambda: self._ops_until(
            wo_id, lambda r: r["status"] == "closed" and r.get("bill_pms_id")))
        self.bill_check(scenario, t0, number, closed)
        record = self.get(f"/ops/work-orders/{wo_id}/record")
        self.invoices.append({"scenario": scenario, "work_order_id": wo_id, "bill_id": closed["bill_pms_id"],
                              **record["invoice"]})

    billed_step = "billed (skipped), closed"

    def bill_check(self, scenario: str, t0: float, number: str, closed: dict[str, Any]) -> None:
        """A drill work order's bill is recorded as skipped: nothing went to the PMS."""
        self.step(scenario, "no bill posted to the PMS", t0, lambda: self._skipped_bill(closed))

    @staticmethod
    def _skipped_bill(closed: dict[str, Any]) -> None:
        if not str(closed["bill_pms_id"]).startswith(DRILL_BILL_PREFIX):
            raise DrillFailure(f"the drill work order was billed in the PMS as {closed['bill_pms_id']}")

    def schedule(self, scenario: str, t0: float, wo_id: str, job: dict[str, Any], tenant: dict[str, Any],
                 answer_by_sms: bool, who: str = "vendor") -> None:
        """The vendor picks one of the tenant's windows; without any, proposes a time the tenant confirms."""
        details = self.get(f"/vendor/jobs/{job['token']}", headers={"Accept": "application/json"})
        if isinstance(details.get("availability"), list) and details["availability"]:
            self.step(scenario, f"{who} picks a tenant window", t0, lambda: self.call(
                "POST", f"/vendor/jobs/{job['token']}/schedule", json={"window": 0}))
            return
        start = (datetime.now(UTC).astimezone() + timedelta(hours=2)).replace(microsecond=0)
        self.step(scenario, f"{who} proposes a time", t0, lambda: self.call(
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

    # ------------------------------------------------------------ by text (needs the SMS webhook's secret)
    def _confirmed_by_text(self, phone: str) -> None:
        raise DrillFailure("this drill cannot text")

    def _texted_answer(self, phone: str) -> None:
        raise DrillFailure("this drill cannot text")

    # ------------------------------------------------------------ helpers
    def _ops_until(self, wo_id: str, done: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        last: dict[str, Any] = {}

        def probe() -> dict[str, Any] | None:
            last.update(self.get(f"/ops/work-orders/{wo_id}"))
            return dict(last) if done(last) else None

        try:
            return self._until("", probe)
        except DrillFailure:
            raise DrillFailure(f"work order stayed {last.get('status')!r}") from None

    def _on_call_page(self, wo_id: str, level: dict[str, Any] | None = None,
                      budget_s: float | None = None) -> dict[str, Any]:
        """The page for this emergency (to the rota `level`'s contact, else to anyone) with its acknowledge
        link: the message and the link's `token`."""
        to = level["contact"]["phone"] if level else None

        def probe() -> dict[str, Any] | None:
            for msg in self.messages():
                link = ONCALL_LINK.search(msg["body"])
                if link and wo_id in msg["body"] and (to is None or msg["to"] == to):
                    return {**msg, "token": link.group(1)}
            return None

        return self._until(f"{level['label'] + ' ' if level else ''}on-call was not paged", probe, budget_s)

    def _acknowledge(self, page: dict[str, Any]) -> dict[str, Any]:
        """The paged person opens the link (which acknowledges nothing) and presses the button (POST)."""
        view = self.get(f"/oncall/{page['token']}", headers={"Accept": "application/json"})
        if view["acknowledged"] or view["allowed_actions"] != ["acknowledge"]:
            raise DrillFailure(f"the page was acknowledged before anyone did: {view['acknowledged_by']}")
        return self.call("POST", f"/oncall/{page['token']}/acknowledge")

    def _offer(self, wo_id: str, wait: bool = True) -> Any:
        """The next offer to a vendor whose link really offers the job (`wait=False`: None if there is none
        yet)."""
        phones = {v["phone"]: v for v in self.vendors.values()}

        def probe() -> dict[str, Any] | None:
            for msg in self.messages():
                if msg["to"] in phones and wo_id in msg["body"] and "Accept or decline" in msg["body"] \
                        and msg["key"] not in self._seen:
                    match = JOB_LINK.search(msg["body"])
                    if match:
                        job = self.get(f"/vendor/jobs/{match.group(1)}", headers={"Accept": "application/json"})
                        if "accept" in job["allowed_actions"]:  # the link really offers this job
                            self._seen.add(msg["key"])
                            vendor = phones[msg["to"]]
                            return {"token": match.group(1), "vendor_id": vendor["id"], "vendor_name": vendor["name"]}
            return None

        return self._until("no vendor offer with an acceptable job link", probe) if wait else probe()

    def _offer_or_escalated(self, wo_id: str) -> dict[str, Any]:
        """The next acceptable offer (as `_offer`), or the work order once it is escalated (no `token`)."""
        def probe() -> dict[str, Any] | None:
            job = self._offer(wo_id, wait=False)
            if job:
                return job
            record = self.get(f"/ops/work-orders/{wo_id}")
            return record if record["status"] == "escalated" else None

        return self._until("neither an offer nor an escalation", probe)

    @staticmethod
    def _declined_by_all(record: dict[str, Any], declined: list[str]) -> None:
        """Escalated after every candidate declined, each of them offered and declined once."""
        candidates = record.get("candidates") or []
        if not declined or sorted(declined) != sorted(candidates):
            raise DrillFailure(f"escalated with candidates {candidates}, declined by {declined}")
        if not any(e["event"] == "escalated" for e in record["timeline"]):
            raise DrillFailure("no escalation on the timeline")

    def _assigned(self, wo_id: str, assignee: dict[str, Any]) -> dict[str, Any]:
        """The assignment message to `assignee` with its job link; the link lets them schedule."""
        msg = self.wait_message(assignee["phone"], wo_id, "/vendor/jobs/")
        match = JOB_LINK.search(msg["body"])
        if not match:
            raise DrillFailure("the assignment message has no job link")
        view = self.get(f"/vendor/jobs/{match.group(1)}", headers={"Accept": "application/json"})
        if not {"schedule", "propose"} & set(view["allowed_actions"]):
            raise DrillFailure(f"the job link does not let the technician schedule: {view['allowed_actions']}")
        return {"token": match.group(1), "vendor_id": assignee["id"], "vendor_name": assignee["name"]}

    def _acknowledged_by(self, wo_id: str, index: int, acked: dict[str, Any]) -> dict[str, Any]:
        """The work order's page record: acknowledged by the rota's level `index` (the level paged last), by
        link, at the time the acknowledgement answered."""
        page = self.get(f"/ops/work-orders/{wo_id}").get("page") or {}
        level = self.rota[index]
        who = f"{level['contact']['name']} ({level['label']})"
        if page.get("acked_by") != who or page.get("acked_level") != index or page.get("acked_via") != "link" \
                or not page.get("acked_at") or page.get("level") != index:
            raise DrillFailure(f"the page record says {page.get('acked_by')!r} (level {page.get('acked_level')}, "
                               f"via {page.get('acked_via')}, at {page.get('acked_at')}), not {who!r} by link")
        if datetime.fromisoformat(acked["acknowledged_at"]) != datetime.fromisoformat(page["acked_at"]):
            raise DrillFailure(f"acknowledged at {acked.get('acknowledged_at')}, recorded {page['acked_at']}")
        return page

    def _ops_approve(self, wo_id: str) -> None:
        def probe() -> bool:
            for msg in self.messages():
                link = APPROVAL_LINK.search(msg["body"])
                if link and wo_id in msg["body"]:  # approval links go to approvers only (here: ops)
                    view = self.get(f"/approvals/{link.group(1)}", headers={"Accept": "application/json"})
                    if view["allowed_actions"]:
                        self.call("POST", f"/approvals/{link.group(1)}/approve", json={})
                        return True
            return False

        self._until("no approval link reached ops", probe)

    @staticmethod
    def _same(job: dict[str, Any], previous: str) -> None:
        if job["vendor_id"] != previous:
            raise DrillFailure(f"recall offered to {job['vendor_id']}, not the previous vendor {previous}")

    def _ops_record(self, wo_id: str, final: dict[str, Any], assigned: str = "accepted") -> None:
        record = self.get(f"/ops/work-orders/{wo_id}")
        events = [e["event"] for e in record["timeline"]]
        missing = [e for e in ("received", "triaged", "offered", assigned, "scheduled", "completed", "verified",
                               "notified") if e not in events]
        if record["status"] in OPEN or missing:
            raise DrillFailure(f"ops record incomplete: status {record['status']}, missing {missing}")

    # ------------------------------------------------------------ the run
    def run(self, scenarios: list[Callable[[DrillRun], Any]] | None = None) -> bool:
        """Play each scenario in turn (the first failure ends the run); True when every step passed."""
        try:
            if not self.records:
                self.step("setup", "drill records ready", time.perf_counter(), self.prepare)
            for scenario in scenarios if scenarios is not None else SCENARIOS:
                scenario(self)
        except DrillFailure as failure:
            self.clean_up(str(failure))
            return False
        return bool(self.steps) and all(s.ok for s in self.steps)

    def clean_up(self, reason: str) -> None:
        """End the work orders a failed run left open (cancelled, or closed once the work is done), so they
        wait on no timer, page nobody and count in no stuck sweep; what could not be ended stays as it is."""
        for wo_id in self.work_orders:
            for action in ("cancel", "close"):
                try:
                    status = self.get(f"/ops/work-orders/{wo_id}")["status"]
                    if status in ("closed", "cancelled"):
                        break
                    self.call("POST", f"/ops/work-orders/{wo_id}/{action}", json={"reason": f"Drill failed: "
                                                                                   f"{reason}"[:400]})
                    self.cleaned_up[wo_id] = {"cancel": "cancelled", "close": "closed"}[action]
                    break
                except (DrillFailure, requests.RequestException):
                    continue

    def scenario_seconds(self) -> dict[str, float]:
        """Each scenario's duration (its last step's time since its start), in seconds."""
        last: dict[str, float] = {}
        for s in self.steps:
            last[s.scenario] = s.latency_ms / 1000
        return last

    def kpi_summary(self) -> dict[str, dict[str, float | None]]:
        """Each scenario's KPIs from its own work orders (drill work never counts in the rollups): the mean
        seconds of each of `GET /ops/kpis?work_orders=..` (the rollups' formulas on their timelines)."""
        by_scenario: dict[str, list[str]] = {}
        for wo_id, scenario in self.scenario_of.items():
            by_scenario.setdefault(scenario, []).append(wo_id)
        summary: dict[str, dict[str, float | None]] = {}
        for scenario, ids in by_scenario.items():
            report = self.get("/ops/kpis?" + urlencode({"work_orders": ",".join(ids)}))
            summary[scenario] = {k["id"]: k["mean"] for k in report["kpis"]}
        return summary

    @staticmethod
    def kpi_table(summary: dict[str, dict[str, float | None]]) -> str:
        """The summary as a few lines: one per scenario, a column per KPI ("-": the step never happened)."""
        if not summary:
            return ""
        names = list(next(iter(summary.values())))
        width = max([10, *(len(s) for s in summary)])
        lines = [f"{'scenario':<{width}} " + " ".join(f"{n:>14}" for n in names)]
        lines += [f"{scenario:<{width}} " + " ".join(f"{_duration(kpis.get(n)):>14}" for n in names)
                  for scenario, kpis in summary.items()]
        return "\n".join(lines)

    def invoice_report(self) -> str:
        """Each closed order's invoice: total, coding (and the rule that chose it), approval and every check."""
        lines = []
        for inv in self.invoices:
            coding, approval = inv.get("coding") or {}, inv.get("approval") or {}
            lines.append(f"{inv['scenario']:<10} {inv['work_order_id']}  invoice {inv['invoice_number']}  "
                         f"{inv['total']} {inv['currency']}  -> bill {inv['bill_id']}")
            lines.append(f"{'':<10} coded: GL {coding.get('gl_account_number')} {coding.get('gl_account_name')}, "
                         f"cost center {coding.get('cost_center')}, owner {coding.get('owner')} "
                         f"(rule {coding.get('rule')}); approval: {approval.get('route')} - {approval.get('reason')}")
            lines.append(f"{'':<10} checks: " + "; ".join(
                f"{c['rule']} {'ok' if c['passed'] else 'FAILED'}" for c in inv.get("checks") or []))
        return "\n".join(lines)

    def table(self) -> str:
        """One row per step: when it was seen, its own latency, and the time since the request."""
        width = max([10, *(len(s.scenario) for s in self.steps)])
        lines = [f"{'scenario':<{width}} {'step':<42} {'at (UTC)':<13} {'step':>9} {'since start':>12}  result"]
        previous: dict[str, float] = {}
        for s in self.steps:
            own = s.latency_ms - previous.get(s.scenario, 0.0)
            previous[s.scenario] = s.latency_ms
            lines.append(f"{s.scenario:<{width}} {s.name:<42} {s.at:%H:%M:%S.%f}"[:-3].ljust(width + 57)
                         + f" {own:>6.0f} ms {s.latency_ms:>9.0f} ms  {'ok' if s.ok else 'FAIL ' + s.note}")
        return "\n".join(lines)


def play(run: DrillRun, scenarios: list[Callable[[DrillRun], Any]] | None = None) -> dict[str, Any]:
    """Run the drill and report it: `DrillFailed` (0 or 1; its alarm tells ops) and each scenario's duration
    (`DrillScenarioSeconds` by `Scenario`), and the step table in the log (drill records only: no PII)."""
    try:
        ok = run.run(scenarios)
    except Exception:  # a drill that breaks is a failed drill: the alarm must hear of it
        logger.exception("the drill broke")
        ok = False
    alarm_count("DrillFailed", 0 if ok else 1)
    seconds = run.scenario_seconds()
    for scenario, duration in seconds.items():
        stage_metric("DrillScenarioSeconds", round(duration, 3), "Seconds", Scenario=scenario)
    failed = next((s for s in run.steps if not s.ok), None)
    kpis = kpi_summary(run)
    outcome = {"passed": ok, "steps": len(run.steps), "seconds": seconds, "work_orders": run.work_orders,
               "failed": f"{failed.scenario}: {failed.name}: {failed.note}" if failed else None,
               "cleaned_up": run.cleaned_up, "kpis": kpis}
    (logger.info if ok else logger.error)("drill " + ("passed" if ok else "FAILED"),
                                          extra={**outcome, "table": run.table(), "kpi_table": run.kpi_table(kpis)})
    return outcome


def kpi_summary(run: DrillRun) -> dict[str, dict[str, float | None]]:
    """The run's KPI summary; a summary that cannot be read is left out (the drill's verdict stands)."""
    try:
        return run.kpi_summary()
    except (DrillFailure, requests.RequestException, KeyError):
        logger.exception("the drill's KPI summary could not be read")
        return {}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"  # a drill's steps take seconds
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


# ---------------------------------------------------------------- scenarios (each plays on the drill's records)
def emergency(run: DrillRun) -> None:
    """A flood reported on the web form: emergency triage, on-call paged, offer, accept, a tenant window,
    check-in, completion, the tenant's "fixed", the invoice, its checks and approval, closed."""
    run.run_request("emergency", run.units[0], "Water is pouring through the kitchen ceiling from upstairs, "
                                               "the floor is flooding!")


def routine(run: DrillRun) -> None:
    """A dripping faucet: routine triage; the first vendor declines, the next accepts; then as above."""
    run.run_request("routine", run.units[1], "The bathroom faucet drips all night, no leak anywhere else.",
                    decline_first=True)


NO_VENDOR_JOB = "The bedroom closet door came off its track and will not close."
UNACKNOWLEDGED_EMERGENCY = "Sparks came out of the kitchen outlet and it smells like burning plastic!"


def no_vendor_accepts(run: DrillRun) -> None:
    """A routine job every drill vendor declines (by its link: no offer timer runs out), so it escalates; ops
    reassign it to the drill's in-house technician (the signed steer route), who schedules, checks in and
    completes through the job link in their message; the tenant confirms, the technician invoices, -> closed
    with a (skipped) bill."""
    scenario, unit, t0 = "no_vendor_accepts", run.units[0], time.perf_counter()
    wo_id = run.request(scenario, t0, unit, NO_VENDOR_JOB)
    run.step(scenario, "triaged", t0, lambda: run._ops_until(wo_id, lambda r: r.get("priority")))
    declined: list[str] = []
    while True:
        nxt = run.step(scenario, "next offer, or escalated" if declined else "vendor offered (link in sms)", t0,
                       lambda: run._offer_or_escalated(wo_id))
        if "token" not in nxt:
            break
        run.step(scenario, f"vendor {len(declined) + 1} declines", t0, lambda j=nxt: run.call(
            "POST", f"/vendor/jobs/{j['token']}/decline", json={"reason": "Drill: no vendor takes this job"}))
        declined.append(nxt["vendor_id"])
    run.step(scenario, "escalated: every vendor declined", t0, lambda: run._declined_by_all(nxt, declined))
    tech = run.technician
    run.step(scenario, "ops reassign to the technician", t0, lambda: run.call(
        "POST", f"/ops/work-orders/{wo_id}/steer", expect=202, json={
            "action": "reassign", "technician_id": tech["id"],
            "reason": "Drill: no vendor took the job, our technician does it"}))
    job = run.step(scenario, "technician gets the job link", t0, lambda: run._assigned(wo_id, tech))
    run.step(scenario, "tenant told who is coming", t0,
             lambda: run.wait_message(unit["tenant"]["phone"], wo_id, tech["name"]))
    run.visit(scenario, t0, wo_id, job, unit["tenant"], who="technician")
    run.verified(scenario, t0, wo_id, assigned="reassigned")
    run.money(scenario, t0, wo_id, job, who="technician")


def secondary_acknowledges(run: DrillRun) -> None:
    """An emergency whose primary on-call does not acknowledge: after the primary's ack-by the secondary is
    paged and acknowledges by its link; the page record says the secondary, and when. The repair itself is
    the emergency scenario's: ops cancel this one (the signed steer route), which also withdraws its offer."""
    scenario, unit, t0 = "secondary_acknowledges", run.units[1], time.perf_counter()
    primary, secondary = run.rota[0], run.rota[1]
    wo_id = run.request(scenario, t0, unit, UNACKNOWLEDGED_EMERGENCY)
    run.step(scenario, "triaged as an emergency", t0,
             lambda: run._ops_until(wo_id, lambda r: r.get("priority") == "emergency"))
    run.step(scenario, "primary paged (not acknowledged)", t0, lambda: run._on_call_page(wo_id, primary))
    # The one real wait of the drill: the primary's ack-by (the rota's, 1 min) and its check's delivery.
    wait_s = primary["ack_within_minutes"] * 60 + PAGE_GRACE_S
    late_s = run.step_budget_s + wait_s  # the budget of this step and the ones after it
    page = run.step(scenario, "secondary paged after the primary's ack-by", t0,
                    lambda: run._on_call_page(wo_id, secondary, budget_s=wait_s), budget_s=late_s)
    acked = run.step(scenario, "secondary acknowledges (link)", t0, lambda: run._acknowledge(page), budget_s=late_s)
    run.step(scenario, "page record: acknowledged by the secondary", t0,
             lambda: run._acknowledged_by(wo_id, 1, acked), budget_s=late_s)
    run.step(scenario, "ops cancel (drill repair not needed)", t0, lambda: run.call(
        "POST", f"/ops/work-orders/{wo_id}/steer", json={
            "action": "cancel", "reason": "Drill: on-call chain checked, the repair is the emergency scenario's"}),
        budget_s=late_s)
    run.step(scenario, "cancelled", t0, lambda: run._ops_until(wo_id, lambda r: r["status"] == "cancelled"),
             budget_s=late_s)


SCENARIOS: list[Callable[[DrillRun], Any]] = [emergency, routine, no_vendor_accepts, secondary_acknowledges]
