"""FakeBuildium: an in-memory Buildium account served over HTTP on 127.0.0.1, shaped by the real OpenAPI spec.

It exists so the Buildium adapter and the webhook path can be exercised end to end without the network: it
serves spec-valid records, checks what clients send against the spec, records every call, injects faults and
emits the thin, signed webhook events Buildium would send. It is not a second Buildium: only what Opslayer reads
and writes is modelled.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from infra.fake_buildium import seed as demo_seed
from infra.fake_buildium.spec import request_errors, spec_dict

Record = dict[str, Any]
Response = tuple[int, Any, dict[str, str]]
Event = dict[str, Any]

KINDS = ("property", "unit", "tenant", "lease", "vendor_category", "vendor", "gl_account", "task", "work_order",
         "bill")
# Webhook event name and id field per kind, as the spec's event grid lists them (tenants are "LeaseTenant").
EVENT_NAMES = {"property": ("Rental", "PropertyId"), "unit": ("RentalUnit", "UnitId"),
               "tenant": ("LeaseTenant", "TenantId"), "lease": ("Lease", "LeaseId"),
               "vendor_category": ("VendorCategory", "VendorCategoryId"), "vendor": ("Vendor", "VendorId"),
               "gl_account": ("GLAccount", "GLAccountId"), "task": ("Task", "TaskId"),
               "work_order": ("WorkOrder", "WorkOrderId"), "bill": ("Bill", "BillId")}
FIRST_NEW_ID = {"task": 50001, "work_order": 60001, "bill": 70001, "property": 201, "unit": 1101, "tenant": 2101,
                "lease": 3101, "vendor": 4101, "vendor_category": 31, "gl_account": 9101, "bill_line": 80001,
                "file": 90001}
# GL accounts a bill line may not use (BillLinePostMessage.GlAccountId), besides bank accounts.
NOT_BILLABLE_DEFAULT_ACCOUNTS = {"Accounts Payable", "Accounts Receivable", "Undeposited Funds"}
TICKET_TTL = timedelta(minutes=5)  # upload tickets and download links expire, as the spec says
DEFAULT_LIMIT, MAX_LIMIT = 50, 1000
ERROR_CODES = {400: "InvalidRequest", 401: "Unauthorized", 404: "NotFound", 415: "UnsupportedMediaType",
               429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}


def compact_json(body: Any) -> str:
    """The body exactly as Buildium signs and sends it: no spaces, no newlines."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def event_datetime(ns: int | None = None) -> str:
    """Buildium's event time: UTC, seven fractional digits, 'Z'."""
    ns = time.time_ns() if ns is None else ns
    secs, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest // 100:07d}Z"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _public(record: Record) -> Record:
    """A stored record without the fake's bookkeeping keys (they start with '_')."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


class _ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _error_body(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Record:
    return {"UserMessage": message, "ErrorCode": ERROR_CODES.get(status, "Error"), "Errors": errors or []}


class FakeBuildium:
    """One Buildium account: records by kind and id, an HTTP server over them, a call log and fault injection.

    - `ids[kind][demo key]` -> Buildium id (kinds: property, unit, tenant, lease, vendor, vendor_category (by name),
      gl_account (by account number)); methods taking a record accept either.
    - `requests`: every HTTP call in arrival order, as {"method", "path", "query": {name: [values]} (parse_qs,
      blanks kept), "body": parsed JSON (raw text if not JSON, None if empty), "status": the answer's status}.
    - `events`: every webhook event the account emitted (mutation methods also return theirs); nothing is
      delivered until `deliver()` is called.
    """

    def __init__(self, account_id: int = 123456, client_id: str = "fake-client-id",
                 client_secret: str = "fake-client-secret", webhook_secret: str = "fake-webhook-secret",
                 seed: demo_seed.Seed | None = None, clock: Callable[[], datetime] | None = None) -> None:
        spec_dict()  # no spec, no fake: fail here, naming the missing file, not later inside a request
        self.account_id, self.client_id, self.client_secret = account_id, client_id, client_secret
        self.webhook_secret = webhook_secret
        self.clock = clock or (lambda: datetime.now(UTC))
        seed = seed or demo_seed.Seed()
        self.ids: dict[str, dict[str, int]] = copy.deepcopy(seed.ids)
        self._store: dict[str, dict[int, Record]] = {kind: {} for kind in KINDS}
        for kind, records in (("property", seed.rentals), ("unit", seed.units), ("tenant", seed.tenants),
                              ("lease", seed.leases), ("vendor_category", seed.vendor_categories),
                              ("vendor", seed.vendors), ("gl_account", seed.gl_accounts)):
            self._store[kind] = copy.deepcopy(records)
        self._next_id = dict(FIRST_NEW_ID)
        self._lock = threading.RLock()
        self.requests: list[Record] = []
        self.events: list[Event] = []  # every event this account emitted, in order (also returned by mutations)
        self._faults: list[tuple[int, str | None, str | None, str | None]] = []  # status, Retry-After, path, method
        self._tickets: dict[str, Record] = {}  # upload ticket key -> {bill id, file name, form data, expiry}
        self._downloads: dict[str, tuple[int, int, datetime]] = {}  # download token -> (bill id, file id, expiry)
        self._delays: list[float] = []
        self._lost_answers: list[tuple[int, str | None, str | None]] = []  # status, path, method
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @classmethod
    def from_demo(cls, **kwargs: Any) -> FakeBuildium:
        """The demo portfolio (infra/demo.py) as a Buildium account."""
        return cls(seed=demo_seed.build(), **kwargs)

    # ------------------------------------------------------------------ lifecycle
    def start(self, port: int = 0) -> FakeBuildium:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-buildium",
                                        daemon=True)  # a short poll interval makes stop() quick
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeBuildium:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def headers(self) -> dict[str, str]:
        """The auth headers a client must send."""
        return {"x-buildium-client-id": self.client_id, "x-buildium-client-secret": self.client_secret}

    # ------------------------------------------------------------------ test controls
    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def fail_next(self, status: int = 503, times: int = 1, retry_after: int | float | None = None,
                  path: str | None = None, method: str | None = None) -> None:
        """The next `times` requests get `status` (with Retry-After when given) before anything else is checked;
        with `path` (a prefix; "/_bucket" is the file upload) and/or `method`, only the requests that match."""
        with self._lock:
            fault = (status, None if retry_after is None else str(retry_after), path, method)
            self._faults.extend([fault] * times)

    def clear_faults(self) -> None:
        """Disarm every pending `fail_next`, `lose_answer_next` and `delay_next`."""
        with self._lock:
            self._faults.clear()
            self._lost_answers.clear()
            self._delays.clear()

    def lose_answer_next(self, status: int = 502, times: int = 1, path: str | None = None,
                         method: str | None = None) -> None:
        """An ambiguous write: the next `times` matching requests are processed, then answered `status` (the
        answer lost on the way back, as a gateway timing out would), so a retry must not write twice."""
        with self._lock:
            self._lost_answers.extend([(status, path, method)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests are answered `seconds` late (to trip client timeouts)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def get(self, kind: str, ref: int | str) -> Record:
        """The record as the API would return it (KeyError when unknown)."""
        with self._lock:
            return self._render(kind, self._record(kind, ref))

    def list(self, kind: str) -> list[Record]:
        """Every record of a kind as the API would return it, oldest first."""
        with self._lock:
            return [self._render(kind, record) for _, record in sorted(self._store[kind].items())]

    def bill_files(self, bill_id: int) -> list[Record]:
        """A bill's uploaded files as stored: the BillFileMessage fields plus `data` (the bytes received)."""
        with self._lock:
            return [{**_public(f), "data": f["_data"]} for f in self._record("bill", bill_id).get("_files", [])]

    def resolve(self, kind: str, ref: int | str) -> int:
        """A Buildium id from an id or a demo key ("unit-maple-1a")."""
        if isinstance(ref, int):
            return ref
        if ref.isdigit():
            return int(ref)
        return self.ids[kind][ref]

    # ------------------------------------------------------------------ mutations, as a Buildium user would make them
    def create_resident_request(self, unit: int | str, title: str, description: str, tenant_id: int | str | None = None,
                                priority: str = "Normal") -> tuple[int, list[Event]]:
        """A tenant (or staff) files a resident request on the unit's active lease."""
        with self._lock:
            unit_id = self.resolve("unit", unit)
            self._record("unit", unit_id)
            lease = next((le for le in self._store["lease"].values()
                          if le["UnitId"] == unit_id and le["LeaseStatus"] == "Active"), None)
            if lease is None:
                raise KeyError(f"unit {unit_id} has no active lease")
            tenant = self.resolve("tenant", tenant_id) if tenant_id is not None else lease["_tenant_ids"][0]
            task = self._new_resident_request({"Title": title, "Description": description, "UnitAgreementId":
                                               lease["Id"], "RequestedByEntityId": tenant, "TaskStatus": "New",
                                               "Priority": priority})
            return task["Id"], self._emit_task(task, "Created")

    def update_resident_request(self, task_id: int, **fields: Any) -> list[Event]:
        """Staff edits a task (spec field names: TaskStatus, Priority, Title, Description, DueDate, ...)."""
        return self.update("task", task_id, **fields)

    def create_work_order(self, task_id: int, vendor: int | str, work_details: str = "",
                          entry_allowed: str = "Unknown") -> tuple[int, list[Event]]:
        """Staff creates a work order for a vendor on an existing task."""
        with self._lock:
            order = self._new_work_order({"TaskId": task_id, "VendorId": self.resolve("vendor", vendor),
                                          "WorkDetails": work_details, "EntryAllowed": entry_allowed})
            return order["Id"], [self._emit("work_order", order["Id"], "Created")]

    def update_work_order(self, work_order_id: int, **fields: Any) -> list[Event]:
        """Staff edits a work order (its own fields: VendorId, WorkDetails, VendorNotes, ...; status is the task's)."""
        return self.update("work_order", work_order_id, **fields)

    def update(self, kind: str, ref: int | str, **fields: Any) -> list[Event]:
        """Change stored fields of any record (spec field names) and emit `<Entity>.Updated`."""
        with self._lock:
            record = self._record(kind, ref)
            record.update(copy.deepcopy(fields))
            record["_updated"] = _iso(self.clock())
            if "LastUpdatedDateTime" in record:
                record["LastUpdatedDateTime"] = record["_updated"]
            if kind == "task":
                return self._emit_task(record, "Updated")
            return [self._emit(kind, record["Id"], "Updated")]

    def update_unit(self, unit: int | str, **fields: Any) -> list[Event]:
        return self.update("unit", unit, **fields)

    def update_tenant(self, tenant: int | str, **fields: Any) -> list[Event]:
        return self.update("tenant", tenant, **fields)

    def update_vendor(self, vendor: int | str, **fields: Any) -> list[Event]:
        """E.g. update_vendor("ven-aqua", PrimaryEmail=..., PhoneNumbers=[...], IsActive=False, CategoryId=12)."""
        if "CategoryId" in fields:
            fields["_category_id"] = fields.pop("CategoryId")
        return self.update("vendor", vendor, **fields)

    def delete(self, kind: str, ref: int | str) -> list[Event]:
        """Remove a record (a later GET is 404) and emit `<Entity>.Deleted`."""
        with self._lock:
            record = self._record(kind, ref)
            del self._store[kind][record["Id"]]
            if kind == "task":
                return self._emit_task(record, "Deleted")
            return [self._emit(kind, record["Id"], "Deleted")]

    # ------------------------------------------------------------------ webhooks
    def event(self, name: str, **ids: Any) -> Event:
        """A thin event: name, time, account, then the entity identifiers."""
        return {"EventName": name, "EventDateTime": event_datetime(), "AccountId": self.account_id, **ids}

    def sign(self, timestamp: int | str, body: str | bytes | Record) -> str:
        """base64(HMAC-SHA256(secret, "<timestamp>.<compact body>"))."""
        text = body.decode() if isinstance(body, bytes) else body if isinstance(body, str) else compact_json(body)
        digest = hmac.new(self.webhook_secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def deliver(self, event: Event, url: str, timestamp: int | None = None, timeout: float = 10.0) -> requests.Response:
        """POST one event to a callback URL the way Buildium does (compact JSON, timestamp and signature headers)."""
        body = compact_json(event)
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": "application/json", "buildium-webhook-timestamp": str(stamp),
                   "buildium-webhook-signature": self.sign(stamp, body)}
        return requests.post(url, data=body.encode(), headers=headers, timeout=timeout)

    # ------------------------------------------------------------------ storage helpers
    def _record(self, kind: str, ref: int | str) -> Record:
        if kind not in self._store:
            raise KeyError(f"unknown kind {kind!r}; one of {KINDS}")
        return self._store[kind][self.resolve(kind, ref)]

    def _new_id(self, kind: str) -> int:
        new_id = self._next_id[kind]
        self._next_id[kind] += 1
        return new_id

    def _emit(self, kind: str, entity_id: int, operation: str, **extra: Any) -> Event:
        entity, id_field = EVENT_NAMES[kind]
        event = self.event(f"{entity}.{operation}", **{id_field: entity_id}, **extra)
        self.events.append(event)
        return event

    def _emit_task(self, task: Record, operation: str) -> list[Event]:
        return [self._emit("task", task["Id"], operation, TaskType=task["TaskType"])]

    def _href(self, path: str) -> str:
        return f"{self.url or 'https://api.buildium.com'}/v1/{path}"

    def _new_resident_request(self, body: Record) -> Record:
        lease = self._store["lease"].get(body["UnitAgreementId"])
        if lease is None:
            raise _ApiError(400, "The lease does not exist.", [{"Key": "UnitAgreementId", "Value": "Not found"}])
        tenant = self._store["tenant"].get(body["RequestedByEntityId"])
        if tenant is None:
            raise _ApiError(400, "The tenant does not exist.", [{"Key": "RequestedByEntityId", "Value": "Not found"}])
        now = _iso(self.clock())
        task = {
            "Id": self._new_id("task"), "TaskType": "ResidentRequest", "Title": body["Title"],
            "Description": body.get("Description"),
            "Property": {"Id": lease["PropertyId"], "Type": "Rental",
                         "Href": self._href(f"rentals/{lease['PropertyId']}")},
            "UnitId": lease["UnitId"],
            "UnitAgreement": {"Id": lease["Id"], "Type": "Lease", "Href": self._href(f"leases/{lease['Id']}")},
            "RequestedByUserEntity": {"Type": "RentalTenant", "Id": tenant["Id"], "FirstName": tenant["FirstName"],
                                      "LastName": tenant["LastName"], "IsCompany": False,
                                      "Href": self._href(f"leases/tenants/{tenant['Id']}")},
            "AssignedToUserId": body.get("AssignedToUserId") or demo_seed.MANAGER["Id"],
            "TaskStatus": body["TaskStatus"], "Priority": body["Priority"], "DueDate": body.get("DueDate"),
            "CreatedDateTime": now, "LastUpdatedDateTime": now,
            "IsEntryPermittedByResident": body.get("IsEntryPermittedByResident"),
            "DoesResidentHavePets": body.get("DoesResidentHavePets"),
            "ResidentEntryNotes": body.get("ResidentEntryNotes"),
        }
        self._store["task"][task["Id"]] = task
        return task

    def _new_todo(self, body: Record) -> Record:
        """The task Buildium creates when a work order is posted with `Task` instead of `TaskId`."""
        now = _iso(self.clock())
        task: Record = {"Id": self._new_id("task"), "TaskType": "Todo", "Title": body["Title"], "Description": None,
                        "UnitId": body.get("UnitId"), "AssignedToUserId": body["AssignedToUserId"],
                        "TaskStatus": body["Status"], "Priority": body["Priority"], "DueDate": body.get("DueDate"),
                        "CreatedDateTime": now, "LastUpdatedDateTime": now}
        property_id = body.get("PropertyId")
        if property_id is None and body.get("UnitId") in self._store["unit"]:
            property_id = self._store["unit"][body["UnitId"]]["PropertyId"]
        if property_id is not None:
            task["Property"] = {"Id": property_id, "Type": "Rental", "Href": self._href(f"rentals/{property_id}")}
        self._store["task"][task["Id"]] = task
        return task

    def _new_work_order(self, body: Record) -> Record:
        if body.get("VendorId") not in self._store["vendor"]:
            raise _ApiError(400, "The vendor does not exist.", [{"Key": "VendorId", "Value": "Not found"}])
        if body.get("TaskId") is not None:
            if body["TaskId"] not in self._store["task"]:
                raise _ApiError(400, "The task does not exist.", [{"Key": "TaskId", "Value": "Not found"}])
            task_id = body["TaskId"]
        elif body.get("Task") is not None:
            task_id = self._new_todo(body["Task"])["Id"]
            self._emit("task", task_id, "Created", TaskType="Todo")
        else:
            raise _ApiError(400, "Either TaskId or Task is required.", [{"Key": "TaskId", "Value": "Required"}])
        order = {"Id": self._new_id("work_order"), "_task_id": task_id, "_updated": _iso(self.clock())}
        order.update(self._work_order_fields(body))
        self._store["work_order"][order["Id"]] = order
        return order

    def _work_order_fields(self, body: Record) -> Record:
        fields = {k: body.get(k) for k in ("WorkDetails", "InvoiceNumber", "ChargeableTo", "EntryAllowed",
                                           "EntryNotes", "VendorId", "VendorNotes")}
        fields["LineItems"] = [{"GlAccountId": item.get("GlAccountId"), "Quantity": item["Quantity"],
                                "Memo": item.get("Memo"), "UnitPrice": item["UnitPrice"]}
                               for item in body.get("LineItems") or []]
        contact_ids = list(body.get("EntryContactIds") or [])
        if body.get("EntryContactId") is not None and body["EntryContactId"] not in contact_ids:
            contact_ids.insert(0, body["EntryContactId"])
        fields["_entry_contact_ids"] = contact_ids
        return fields

    def _new_bill(self, body: Record) -> Record:
        """Checks what the spec's field descriptions state (beyond the schema, which `_answer` already checked)."""
        if body["VendorId"] not in self._store["vendor"]:
            raise _ApiError(400, "The vendor does not exist.", [{"Key": "VendorId", "Value": "Not found"}])
        if body.get("WorkOrderId") is not None and body["WorkOrderId"] not in self._store["work_order"]:
            raise _ApiError(400, "The work order does not exist.", [{"Key": "WorkOrderId", "Value": "Not found"}])
        if date.fromisoformat(body["DueDate"]) < date.fromisoformat(body["Date"]):
            raise _ApiError(400, "The due date must be after the bill date.", [{"Key": "DueDate", "Value": "Invalid"}])
        for key, limit in (("Memo", 245), ("ReferenceNumber", 40)):
            if len(body.get(key) or "") > limit:
                raise _ApiError(400, f"{key} cannot exceed {limit} characters.", [{"Key": key, "Value": "Too long"}])
        if not body["Lines"]:
            raise _ApiError(400, "A bill needs at least one line.", [{"Key": "Lines", "Value": "Required"}])
        lines = []
        for n, line in enumerate(body["Lines"]):
            account = self._store["gl_account"].get(line["GlAccountId"])
            if account is None:
                raise _ApiError(400, "The GL account does not exist.", [{"Key": f"Lines[{n}].GlAccountId",
                                                                          "Value": "Not found"}])
            if account["IsBankAccount"] or account.get("DefaultAccountName") in NOT_BILLABLE_DEFAULT_ACCOUNTS:
                raise _ApiError(400, "The GL account cannot be used on a bill.",
                                [{"Key": f"Lines[{n}].GlAccountId", "Value": "Invalid"}])
            if len(line.get("Memo") or "") > 240:
                raise _ApiError(400, "A line memo cannot exceed 240 characters.",
                                [{"Key": f"Lines[{n}].Memo", "Value": "Too long"}])
            entity = line["AccountingEntity"]
            if entity["AccountingEntityType"] != "Rental" or entity["Id"] not in self._store["property"]:
                raise _ApiError(400, "The accounting entity does not exist.",
                                [{"Key": f"Lines[{n}].AccountingEntity.Id", "Value": "Not found"}])
            unit = self._store["unit"].get(entity.get("UnitId") or 0)
            if entity.get("UnitId") is not None and (unit is None or unit["PropertyId"] != entity["Id"]):
                raise _ApiError(400, "The unit does not belong to the accounting entity.",
                                [{"Key": f"Lines[{n}].AccountingEntity.UnitId", "Value": "Not found"}])
            accounting_entity: Record = {"Id": entity["Id"], "AccountingEntityType": entity["AccountingEntityType"],
                                         "Href": self._href(f"rentals/{entity['Id']}")}
            if entity.get("UnitId") is not None:
                accounting_entity["Unit"] = {"Id": entity["UnitId"],
                                             "Href": self._href(f"rentals/units/{entity['UnitId']}")}
            rendered: Record = {"Id": self._new_id("bill_line"), "AccountingEntity": accounting_entity,
                                "GLAccount": self._render("gl_account", account), "Amount": line["Amount"],
                                "Memo": line.get("Memo")}
            if line.get("Markup") is not None:
                rendered["Markup"] = {"Amount": line["Markup"]["Amount"], "Type": line["Markup"]["Type"]}
            lines.append(rendered)
        bill = {"Id": self._new_id("bill"), "Date": body["Date"], "DueDate": body["DueDate"], "PaidDate": None,
                "Memo": body.get("Memo"), "VendorId": body["VendorId"], "WorkOrderId": body.get("WorkOrderId"),
                "ReferenceNumber": body.get("ReferenceNumber"), "ApprovalStatus": "NotNeeded", "Lines": lines,
                "_updated": _iso(self.clock())}
        self._store["bill"][bill["Id"]] = bill
        if bill["WorkOrderId"] is not None:
            self._store["work_order"][bill["WorkOrderId"]].setdefault("_bill_ids", []).append(bill["Id"])
        return bill

    # ------------------------------------------------------------------ rendering (stored record -> spec message)
    def _render(self, kind: str, record: Record, view: str = "") -> Record:
        out = _public(record)
        if kind == "property":
            out["NumberUnits"] = sum(1 for u in self._store["unit"].values() if u["PropertyId"] == record["Id"])
        elif kind == "tenant":
            if view != "nested":
                out["Leases"] = [self._render("lease", le, "nested") for le in self._store["lease"].values()
                                 if record["Id"] in le["_tenant_ids"]]
        elif kind == "lease":
            out["Tenants"] = [{"Id": tid, "Status": "Current", "MoveInDate": record["_move_in"]}
                              for tid in record["_tenant_ids"] if tid in self._store["tenant"]]
            if view != "nested":
                out["CurrentTenants"] = [self._render("tenant", self._store["tenant"][tid], "nested")
                                         for tid in record["_tenant_ids"] if tid in self._store["tenant"]]
        elif kind == "vendor":
            category = self._store["vendor_category"].get(record["_category_id"])
            out["Category"] = {"Id": record["_category_id"], "Name": category["Name"] if category else None}
        elif kind == "gl_account":
            if view != "nested":
                out["SubAccounts"] = [self._render("gl_account", a, "nested")
                                      for a in self._store["gl_account"].values()
                                      if a["ParentGLAccountId"] == record["Id"]]
            else:
                out["SubAccounts"] = []
        elif kind == "work_order":
            task = self._store["task"].get(record["_task_id"], {})
            out["Task"] = {"Id": record["_task_id"], "Type": task.get("TaskType", "Todo"), "UnitId": task.get("UnitId"),
                           "Title": task.get("Title"), "DueDate": task.get("DueDate"),
                           "Priority": task.get("Priority", "Normal"), "Status": task.get("TaskStatus", "New")}
            if task.get("UnitAgreement"):
                out["Task"]["UnitAgreement"] = copy.deepcopy(task["UnitAgreement"])
            out["Task"] = _shape(out["Task"], "WorkOrderTaskMessage")
            out.update({"Title": task.get("Title"), "DueDate": task.get("DueDate"),
                        "Priority": task.get("Priority", "Unknown"), "Status": task.get("TaskStatus", "Unknown")})
            contacts = [{"Id": cid, "Resources": [{"Type": "RentalTenant",
                                                   "Href": self._href(f"leases/tenants/{cid}")}]}
                        for cid in record.get("_entry_contact_ids", [])]
            out["EntryContacts"] = contacts
            if contacts:
                out["EntryContact"] = contacts[0]
            bills = record.get("_bill_ids", [])
            out["BillTransactionIds"] = list(bills)
            out["BillTransactionId"] = bills[0] if bills else None
            out["Amount"] = round(sum(i["Quantity"] * i["UnitPrice"] for i in record["LineItems"]), 2)
        schema = SCHEMAS[kind] if kind != "task" or view != "resident_request" else "ResidentRequestTaskMessage"
        return _shape(out, schema)

    # ------------------------------------------------------------------ HTTP
    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> Response:
        split = urlsplit(raw_path)
        path, query = split.path.rstrip("/") or "/", parse_qs(split.query, keep_blank_values=True)
        body: Any = None
        if raw_body and headers.get("content-type", "").startswith("multipart/"):
            body = f"<multipart, {len(raw_body)} bytes>"  # a file upload: not kept twice
        elif raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode(errors="replace")
        with self._lock:
            entry = {"method": method, "path": path, "query": query, "body": body, "status": None}
            self.requests.append(entry)
            delay = self._delays.pop(0) if self._delays else 0.0
            fault = next((f for f in self._faults if (f[2] is None or path.startswith(f[2]))
                          and f[3] in (None, method)), None)
            if fault is not None:
                self._faults.remove(fault)
            lost = next((f for f in self._lost_answers if (f[1] is None or path.startswith(f[1]))
                         and f[2] in (None, method)), None)
            if lost is not None:
                self._lost_answers.remove(lost)
        if delay:
            time.sleep(delay)
        try:
            result = self._answer(method, path, query, headers, raw_body, body, fault)
        except _ApiError as err:
            result = (err.status, _error_body(err.status, err.message, err.errors), {})
        except Exception as err:  # a bug in the fake: answer like a server error, keep serving
            result = (500, _error_body(500, f"Fake Buildium failed: {err!r}"), {})
        if lost is not None and result[0] < 400:  # processed; the answer never reaches the client
            result = (lost[0], _error_body(lost[0], "Injected fault: the answer was lost."), {})
        entry["status"] = result[0]
        return result

    def _answer(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                raw_body: bytes, body: Any, fault: tuple[int, str | None, str | None, str | None] | None) -> Response:
        if fault is not None:
            status, retry_after = fault[:2]
            extra = {"Retry-After": retry_after} if retry_after is not None else {}
            return status, _error_body(status, "Injected fault."), extra
        if path.startswith("/_bucket"):  # the file provider: pre-signed by the ticket, no API credentials
            with self._lock:
                return self._bucket(method, path, headers, raw_body)
        if (headers.get("x-buildium-client-id") != self.client_id
                or headers.get("x-buildium-client-secret") != self.client_secret):
            raise _ApiError(401, "The client id and secret are missing or invalid.")
        route = _route(method, path)
        if route is None:
            raise _ApiError(404, "The requested resource doesn't exist.")
        action, arg = route
        if method in ("POST", "PUT") and action not in BODYLESS_ACTIONS:
            if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                raise _ApiError(415, "Content-Type must be application/json.")
            if not isinstance(body, dict):
                raise _ApiError(400, "The request body is not a JSON object.", [{"Key": "", "Value": "Invalid JSON"}])
        errors = request_errors(method, path, query, raw_body or None)
        if errors:
            raise _ApiError(400, "The request is invalid.", errors)
        with self._lock:
            return action(self, arg, query, body)


    # ------------------------------------------------------------------ files (the "file provider" is this server)
    def _upload_ticket(self, bill: Record, file_name: str) -> Record:
        physical = f"{secrets.token_hex(8)}_{re.sub(r'[^A-Za-z0-9._-]', '_', file_name)}"
        key = f"{self.account_id}/bills/{bill['Id']}/{physical}"
        now = self.clock()
        policy = compact_json({"expiration": _iso(now + TICKET_TTL), "key": key})
        form = {"key": key, "acl": "private", "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": f"FAKE/{now:%Y%m%d}/us-east-1/s3/aws4_request",
                "x-amz-date": f"{now:%Y%m%dT%H%M%SZ}", "policy": base64.b64encode(policy.encode()).decode(),
                "x-amz-signature": secrets.token_hex(32)}
        self._tickets[key] = {"bill_id": bill["Id"], "file_name": file_name, "form": form,
                              "expires": now + TICKET_TTL, "physical": physical}
        return {"BucketUrl": f"{self.url}/_bucket", "FormData": form, "PhysicalFileName": physical}

    def _bucket(self, method: str, path: str, headers: dict[str, str], raw_body: bytes) -> Response:
        """S3's side of the two-step upload (POST /_bucket, multipart) and of download links (GET)."""
        if method == "GET" and path.startswith("/_bucket/download/"):
            found = self._downloads.get(path.rsplit("/", 1)[-1])
            if found is None or found[2] < self.clock():
                return _s3_error(403, "AccessDenied", "Request has expired")
            bill = self._store["bill"].get(found[0]) or {}
            file = next((f for f in bill.get("_files", []) if f["Id"] == found[1]), None)
            if file is None:
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            return 200, file["_data"], {"Content-Type": file.get("ContentType") or "application/octet-stream"}
        if method != "POST" or path != "/_bucket":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed.")
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return _s3_error(400, "InvalidRequest", "Bucket POST must be of the enclosure-type multipart/form-data")
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n"
                                                      + raw_body)
        parts = [(p.get_param("name", header="content-disposition"), p) for p in message.iter_parts()]
        names = [name for name, _ in parts]
        if "file" not in names:
            return _s3_error(400, "InvalidArgument", "POST requires exactly one file upload per request.")
        fields = {name: part.get_payload(decode=True).decode() for name, part in parts[:names.index("file")]}
        ticket = self._tickets.get(fields.get("key", ""))
        if ticket is None or list(fields.items()) != list(ticket["form"].items()):
            # S3 checks the policy and signature over the fields; here: the ticket's fields, in its order, then file
            return _s3_error(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed")
        if ticket["expires"] < self.clock():
            return _s3_error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        part = parts[names.index("file")][1]
        data = part.get_payload(decode=True) or b""
        bill = self._store["bill"].get(ticket["bill_id"])
        if bill is None:
            return _s3_error(404, "NoSuchKey", "The bill is gone.")
        del self._tickets[fields["key"]]  # a ticket is good for one upload
        bill.setdefault("_files", []).append({
            "Id": self._new_id("file"), "Title": ticket["file_name"], "PhysicalFileName": ticket["physical"],
            "Size": math.ceil(len(data) / 1024), "ContentType": part.get_content_type(),
            "UploadedDateTime": _iso(self.clock()), "_data": data})
        return 204, None, {}


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return status, body.encode(), {"Content-Type": "application/xml"}


SCHEMAS = {"property": "RentalMessage", "unit": "RentalUnitMessage", "tenant": "TenantMessage",
           "lease": "LeaseMessage", "vendor_category": "VendorCategoryMessage", "vendor": "VendorMessage",
           "gl_account": "GLAccountMessage", "task": "AllTasksMessage", "work_order": "WorkOrderMessage",
           "bill": "BillMessage"}


def _shape(record: Record, schema: str) -> Record:
    """Keep the schema's properties only (it forbids extra keys) and drop nulls it would reject.

    A null is rejected unless the property is nullable, and also for nullable enums: under OpenAPI 3.0 a null
    must then be listed in the enum, which the spec never does (an absent key validates instead)."""
    props = spec_dict()["components"]["schemas"][schema]["properties"]
    return {k: v for k, v in record.items()
            if k in props and (v is not None or (props[k].get("nullable") and "enum" not in props[k]))}


# ------------------------------------------------------------------ list queries
def _ints(query: dict[str, list[str]], name: str) -> set[int]:
    return {int(v) for v in query.get(name, []) if v != ""}


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _contains(haystack: str | None, needle: str | None) -> bool:
    return needle is None or needle.lower() in (haystack or "").lower()


def _updated_between(stamp: str | None, query: dict[str, list[str]]) -> bool:
    """lastupdatedfrom/-to: a date (YYYY-MM-DD, tasks and work orders) or a date-time (others), both inclusive."""
    if stamp is None:
        return not (query.get("lastupdatedfrom") or query.get("lastupdatedto"))
    moment = _parse_moment(stamp)
    for name, keep in (("lastupdatedfrom", lambda a, b: a >= b), ("lastupdatedto", lambda a, b: a <= b)):
        value = _one(query, name)
        if not value:
            continue
        if len(value) == 10:
            if not keep(moment.date(), date.fromisoformat(value)):
                return False
        elif not keep(moment, _parse_moment(value)):
            return False
    return True


def _order(items: list[Record], orderby: str | None) -> list[Record]:
    """`orderby=Field [asc|desc],...` on top-level fields, case-insensitive names; default Id ascending."""
    items = sorted(items, key=lambda r: r.get("Id", 0))
    if not orderby:
        return items
    for clause in reversed([c.strip() for c in orderby.split(",") if c.strip()]):
        name, _, direction = clause.partition(" ")
        def key(record: Record, name: str = name.lower()) -> tuple[bool, Any]:
            value = next((v for k, v in record.items() if k.lower() == name), None)
            return value is None, value if not isinstance(value, dict | list) else str(value)
        items.sort(key=key, reverse=direction.strip().lower() == "desc")
    return items


def _page(items: list[Record], query: dict[str, list[str]]) -> Response:
    offset = int(_one(query, "offset") or 0)
    limit = int(_one(query, "limit") or DEFAULT_LIMIT)
    if offset < 0 or limit < 1:
        raise _ApiError(400, "offset must be >= 0 and limit between 1 and 1000.",
                        [{"Key": "limit" if limit < 1 else "offset", "Value": "Out of range"}])
    limit = min(limit, MAX_LIMIT)
    items = _order(items, _one(query, "orderby"))
    return 200, items[offset:offset + limit], {"X-Total-Count": str(len(items))}


def _phone_numbers(record: Record) -> str:
    return " ".join(p.get("Number") or "" for p in record.get("PhoneNumbers") or [])


def _rentals(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    ids, status, location = _ints(q, "propertyids"), _one(q, "status"), _one(q, "location")
    types = set(q.get("types", []))
    for r in fake._store["property"].values():
        address = r.get("Address") or {}
        if ((not ids or r["Id"] in ids) and (status is None or (status == "Active") == r["IsActive"])
                and (not types or r["RentalType"] in types)
                and (location is None or _contains(address.get("City"), location)
                     or _contains(address.get("State"), location))
                and _updated_between(r.get("_updated", demo_seed.SEED_TIME), q)):
            yield fake._render("property", r)


def _units(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    ids = _ints(q, "propertyids")
    for u in fake._store["unit"].values():
        if (not ids or u["PropertyId"] in ids) and _updated_between(u.get("_updated"), q):
            yield fake._render("unit", u)


def _leases(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    ids, statuses, number = _ints(q, "propertyids"), set(q.get("leasestatuses", [])), _one(q, "unitnumber")
    for le in fake._store["lease"].values():
        if ((not ids or le["PropertyId"] in ids) and (not statuses or le["LeaseStatus"] in statuses)
                and _contains(le["UnitNumber"], number) and _updated_between(le.get("LastUpdatedDateTime"), q)):
            yield fake._render("lease", le)


def _tenants(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    unit_ids, prop_ids = _ints(q, "unitids"), _ints(q, "propertyids")
    statuses, number = set(q.get("leasetermstatuses", [])), _one(q, "unitnumber")
    for t in fake._store["tenant"].values():
        leases = [le for le in fake._store["lease"].values() if t["Id"] in le["_tenant_ids"]]
        name = f"{t.get('FirstName') or ''} {t.get('LastName') or ''}"
        if ((not unit_ids or any(le["UnitId"] in unit_ids for le in leases))
                and (not prop_ids or any(le["PropertyId"] in prop_ids for le in leases))
                and (not statuses or any(le["LeaseStatus"] in statuses for le in leases))
                and (number is None or any(_contains(le["UnitNumber"], number) for le in leases))
                and _contains(name, _one(q, "name")) and _contains(t.get("Email"), _one(q, "email"))
                and _contains(_phone_numbers(t), _one(q, "phone")) and _updated_between(t.get("_updated"), q)):
            yield fake._render("tenant", t)


def _vendors(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    status = _one(q, "status")
    for v in fake._store["vendor"].values():
        name = v.get("CompanyName") or f"{v.get('FirstName') or ''} {v.get('LastName') or ''}"
        if ((status is None or (status == "Active") == v["IsActive"]) and _contains(name, _one(q, "name"))
                and _contains(v.get("PrimaryEmail"), _one(q, "email"))
                and _contains(_phone_numbers(v), _one(q, "phone")) and _updated_between(v.get("_updated"), q)):
            yield fake._render("vendor", v)


def _categories(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    return (fake._render("vendor_category", c) for c in fake._store["vendor_category"].values())


def _gl_accounts(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    types = set(q.get("accounttypes", []))
    return (fake._render("gl_account", a) for a in fake._store["gl_account"].values()
            if not types or a["Type"] in types)


def _task_matches(task: Record, q: dict[str, list[str]], updated: str | None) -> bool:
    """The task filters shared by /tasks, /tasks/residentrequests and /workorders (via the work order's task)."""
    statuses, priorities = set(q.get("statuses", [])), set(q.get("priorities", []))
    entity_id, unit_id, kind = _one(q, "entityid"), _one(q, "unitid"), _one(q, "type")
    property_id = (task.get("Property") or {}).get("Id")
    return ((not statuses or task.get("TaskStatus") in statuses)
            and (not priorities or task.get("Priority") in priorities)
            and (entity_id is None or (_one(q, "entitytype") in (None, "Rental") and property_id == int(entity_id)))
            and (unit_id is None or task.get("UnitId") == int(unit_id))
            and (kind is None or task.get("TaskType") == kind) and _updated_between(updated, q))


def _tasks(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    return (fake._render("task", t) for t in fake._store["task"].values()
            if _task_matches(t, q, t.get("LastUpdatedDateTime")) and _contains(t.get("Title"), _one(q, "tasktitle")))


def _resident_requests(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    return (fake._render("task", t, "resident_request") for t in fake._store["task"].values()
            if t["TaskType"] == "ResidentRequest" and _task_matches(t, q, t.get("LastUpdatedDateTime"))
            and _contains(t.get("Title"), _one(q, "tasktitle")))


def _work_orders(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    vendor_ids, task_ids, billed = _ints(q, "vendorids"), _ints(q, "taskids"), _one(q, "isbilled")
    for w in fake._store["work_order"].values():
        task = fake._store["task"].get(w["_task_id"], {})
        if ((not vendor_ids or w["VendorId"] in vendor_ids) and (not task_ids or w["_task_id"] in task_ids)
                and (billed is None or bool(w.get("_bill_ids")) == (billed.lower() == "true"))
                and _contains(task.get("Title"), _one(q, "title")) and _task_matches(task, q, w["_updated"])):
            yield fake._render("work_order", w)


def _bills(fake: FakeBuildium, q: dict[str, list[str]]) -> Iterable[Record]:
    vendor_id, reference, entity_id = _one(q, "vendorid"), _one(q, "referencenumber"), _one(q, "entityid")
    if entity_id is not None and _one(q, "entitytype") is None:
        raise _ApiError(400, "EntityType is required when EntityId is given.", [{"Key": "entitytype",
                                                                                  "Value": "Required"}])
    approvals, paid = set(q.get("approvalstatuses", [])), _one(q, "paidstatus")
    for b in fake._store["bill"].values():
        entities = [(li["AccountingEntity"]["Id"], li["AccountingEntity"]["AccountingEntityType"]) for li in b["Lines"]]
        if ((vendor_id is None or b["VendorId"] == int(vendor_id)) and _contains(b.get("ReferenceNumber"), reference)
                and (entity_id is None or (int(entity_id), _one(q, "entitytype")) in entities)
                and (not approvals or b["ApprovalStatus"] in approvals)
                and (paid is None or (paid == "Paid") == (b.get("PaidDate") is not None))):
            yield fake._render("bill", b)


# ------------------------------------------------------------------ routes
Action = Callable[[FakeBuildium, Any, dict[str, list[str]], Any], Response]


def _lister(select: Callable[[FakeBuildium, dict[str, list[str]]], Iterable[Record]]) -> Action:
    return lambda fake, _arg, query, _body: _page(list(select(fake, query)), query)


def _getter(kind: str, view: str = "", task_type: str | None = None) -> Action:
    def action(fake: FakeBuildium, entity_id: int | None, _q: dict[str, list[str]], _b: Any) -> Response:
        record = fake._store[kind].get(entity_id or 0)
        if record is None or (task_type is not None and record["TaskType"] != task_type):
            raise _ApiError(404, f"The {kind.replace('_', ' ')} {entity_id} doesn't exist.")
        return 200, fake._render(kind, record, view), {}
    return action


def _post_resident_request(fake: FakeBuildium, _arg: int | None, _q: dict[str, list[str]], body: Any) -> Response:
    task = fake._new_resident_request(body)
    fake._emit_task(task, "Created")
    return 201, fake._render("task", task, "resident_request"), {"Location": fake._href(f"tasks/residentrequests/"
                                                                                         f"{task['Id']}")}


def _put_resident_request(fake: FakeBuildium, task_id: int | None, q: dict[str, list[str]], body: Any) -> Response:
    task = fake._store["task"].get(task_id or 0)
    if task is None or task["TaskType"] != "ResidentRequest":
        raise _ApiError(404, f"The resident request {task_id} doesn't exist.")
    # The PUT carries `Message` (a note added to the task's history), not a new description.
    for key in ("Title", "CategoryId", "AssignedToUserId", "TaskStatus", "Priority", "DueDate"):
        if key in body:
            task[key] = body[key]
    if body.get("Message"):
        task.setdefault("_messages", []).append(body["Message"])
    task["LastUpdatedDateTime"] = _iso(fake.clock())
    fake._emit_task(task, "Updated")
    return 200, fake._render("task", task, "resident_request"), {}


def _post_work_order(fake: FakeBuildium, _arg: int | None, _q: dict[str, list[str]], body: Any) -> Response:
    order = fake._new_work_order(body)
    fake._emit("work_order", order["Id"], "Created")
    return 201, fake._render("work_order", order), {"Location": fake._href(f"workorders/{order['Id']}")}


def _put_work_order(fake: FakeBuildium, order_id: int | None, _q: dict[str, list[str]], body: Any) -> Response:
    order = fake._store["work_order"].get(order_id or 0)
    if order is None:
        raise _ApiError(404, f"The work order {order_id} doesn't exist.")
    if body["VendorId"] not in fake._store["vendor"]:
        raise _ApiError(400, "The vendor does not exist.", [{"Key": "VendorId", "Value": "Not found"}])
    order.update(fake._work_order_fields(body))  # a PUT replaces the work order's own fields
    order["_updated"] = _iso(fake.clock())
    fake._emit("work_order", order["Id"], "Updated")
    return 200, fake._render("work_order", order), {}


def _post_bill(fake: FakeBuildium, _arg: int | None, _q: dict[str, list[str]], body: Any) -> Response:
    bill = fake._new_bill(body)
    fake._emit("bill", bill["Id"], "Created")
    return 201, fake._render("bill", bill), {"Location": fake._href(f"bills/{bill['Id']}")}


def _bill_of(fake: FakeBuildium, bill_id: int) -> Record:
    bill = fake._store["bill"].get(bill_id)
    if bill is None:
        raise _ApiError(404, f"The bill {bill_id} doesn't exist.")
    return bill


def _bill_file(fake: FakeBuildium, ids: tuple[int, int]) -> Record:
    file = next((f for f in _bill_of(fake, ids[0]).get("_files", []) if f["Id"] == ids[1]), None)
    if file is None:
        raise _ApiError(404, f"The file {ids[1]} doesn't exist.")
    return file


def _list_bill_files(fake: FakeBuildium, bill_id: Any, q: dict[str, list[str]], _b: Any) -> Response:
    files = [_shape(_public(f), "BillFileMessage") for f in _bill_of(fake, bill_id).get("_files", [])]
    return _page(files, q)


def _get_bill_file(fake: FakeBuildium, ids: Any, _q: dict[str, list[str]], _b: Any) -> Response:
    return 200, _shape(_public(_bill_file(fake, ids)), "BillFileMessage"), {}


def _bill_upload_request(fake: FakeBuildium, bill_id: Any, _q: dict[str, list[str]], body: Any) -> Response:
    if len(body["FileName"]) > 255:
        raise _ApiError(400, "FileName cannot exceed 255 characters.", [{"Key": "FileName", "Value": "Too long"}])
    return 201, fake._upload_ticket(_bill_of(fake, bill_id), body["FileName"]), {}


def _bill_download_request(fake: FakeBuildium, ids: Any, _q: dict[str, list[str]], _b: Any) -> Response:
    file = _bill_file(fake, ids)
    token = secrets.token_urlsafe(16)
    fake._downloads[token] = (ids[0], file["Id"], fake.clock() + TICKET_TTL)
    return 201, {"DownloadUrl": f"{fake.url}/_bucket/download/{token}"}, {}


_ID = r"(\d+)"
ROUTES: list[tuple[str, re.Pattern[str], Action]] = [
    (method, re.compile(f"^/v1/{pattern}$"), action) for method, pattern, action in [
        ("GET", "rentals", _lister(_rentals)),
        ("GET", "rentals/units", _lister(_units)),
        ("GET", f"rentals/units/{_ID}", _getter("unit")),
        ("GET", f"rentals/{_ID}", _getter("property")),
        ("GET", "leases", _lister(_leases)),
        ("GET", "leases/tenants", _lister(_tenants)),
        ("GET", f"leases/tenants/{_ID}", _getter("tenant")),
        ("GET", f"leases/{_ID}", _getter("lease")),
        ("GET", "vendors", _lister(_vendors)),
        ("GET", "vendors/categories", _lister(_categories)),
        ("GET", f"vendors/categories/{_ID}", _getter("vendor_category")),
        ("GET", f"vendors/{_ID}", _getter("vendor")),
        ("GET", "glaccounts", _lister(_gl_accounts)),
        ("GET", f"glaccounts/{_ID}", _getter("gl_account")),
        ("GET", "tasks", _lister(_tasks)),
        ("GET", "tasks/residentrequests", _lister(_resident_requests)),
        ("POST", "tasks/residentrequests", _post_resident_request),
        ("GET", f"tasks/residentrequests/{_ID}", _getter("task", "resident_request", "ResidentRequest")),
        ("PUT", f"tasks/residentrequests/{_ID}", _put_resident_request),
        ("GET", f"tasks/{_ID}", _getter("task")),
        ("GET", "workorders", _lister(_work_orders)),
        ("POST", "workorders", _post_work_order),
        ("GET", f"workorders/{_ID}", _getter("work_order")),
        ("PUT", f"workorders/{_ID}", _put_work_order),
        ("GET", "bills", _lister(_bills)),
        ("POST", "bills", _post_bill),
        ("GET", f"bills/{_ID}", _getter("bill")),
        ("GET", f"bills/{_ID}/files", _list_bill_files),
        ("GET", f"bills/{_ID}/files/{_ID}", _get_bill_file),
        ("POST", f"bills/{_ID}/files/uploadrequests", _bill_upload_request),
        ("POST", f"bills/{_ID}/files/{_ID}/downloadrequest", _bill_download_request),
    ]
]
BODYLESS_ACTIONS = {_bill_download_request}  # POSTs the spec defines without a request body


def _route(method: str, path: str) -> tuple[Action, Any] | None:
    """The action and its path ids: None, one id, or a tuple of ids (e.g. bill id and file id)."""
    for route_method, pattern, action in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            ids = tuple(int(g) for g in match.groups())
            return action, ids[0] if len(ids) == 1 else ids or None
    return None


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP into FakeBuildium._handle calls; quiet (tests read fake.requests instead of a log)."""

    fake: FakeBuildium
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.fake._handle(self.command, self.path, headers, raw)
        extra = dict(extra)
        if isinstance(body, bytes):  # a file download or an S3-style XML error
            payload, content_type = body, extra.pop("Content-Type", "application/octet-stream")
        else:
            payload = compact_json(body).encode() if body is not None else b""
            content_type = "application/json; charset=utf-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout after delay_next): nothing to tell

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
