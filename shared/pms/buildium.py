"""Buildium adapter: implements PmsPort over Buildium's REST API (v1) with `requests`.

Why it looks the way it does:
- Every call carries the API key headers; they are never logged or put into error messages.
- 429, 5xx, timeouts and connection errors are retried with exponential backoff and jitter, honouring
  ``Retry-After``. A POST is only retried when it cannot have been processed (429, connect failure);
  an ambiguous POST failure (5xx, read timeout) goes back through the idempotent lookup instead, so a
  retry never creates a second Buildium record.
- Lists page with ``offset``/``limit`` (ordered by ``Id`` so pages are stable) until ``X-Total-Count``.
- PUT replaces the whole record in Buildium, so updates GET first and merge.
- Bills go in whole (all lines in one POST) or not at all; the invoice file follows, and a retried
  ``ensure_bill`` finds the bill and uploads the file only if the bill does not have it yet.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from shared.pms.buildium_webhooks import parse_datetime
from shared.pms.models import (
    BillAttachment,
    EntityKind,
    NewBill,
    NewBillLine,
    NewResidentRequest,
    NewWorkOrder,
    PmsAddress,
    PmsBill,
    PmsGLAccount,
    PmsLease,
    PmsProperty,
    PmsTask,
    PmsTenant,
    PmsUnit,
    PmsVendor,
    PmsVendorCategory,
    PmsVendorInsurance,
    PmsWorkOrder,
    WorkOrderSync,
)
from shared.pms.port import PmsError, PmsRejected, UnitCannotHoldRequests

log = logging.getLogger(__name__)

Json = dict[str, Any]

# kind -> (GET-by-id path template, list path). Tasks list the resident requests (the maintenance
# queue); a task fetched by id may be of any type (a Task.* webhook does not say which endpoint).
ENDPOINTS: dict[EntityKind, tuple[str, str]] = {
    EntityKind.PROPERTY: ("/v1/rentals/{id}", "/v1/rentals"),
    EntityKind.UNIT: ("/v1/rentals/units/{id}", "/v1/rentals/units"),
    EntityKind.TENANT: ("/v1/leases/tenants/{id}", "/v1/leases/tenants"),
    EntityKind.LEASE: ("/v1/leases/{id}", "/v1/leases"),
    EntityKind.VENDOR: ("/v1/vendors/{id}", "/v1/vendors"),
    EntityKind.VENDOR_CATEGORY: ("/v1/vendors/categories/{id}", "/v1/vendors/categories"),
    EntityKind.GL_ACCOUNT: ("/v1/glaccounts/{id}", "/v1/glaccounts"),
    EntityKind.TASK: ("/v1/tasks/{id}", "/v1/tasks/residentrequests"),
    EntityKind.WORK_ORDER: ("/v1/workorders/{id}", "/v1/workorders"),
    EntityKind.BILL: ("/v1/bills/{id}", "/v1/bills"),
}

# Opslayer status -> Buildium task status. Buildium keeps a work order's status on its task (the work
# order PUT has no status field), so the resident request carries it. Buildium has no "cancelled" or
# "escalated": cancelled closes the request; anything Opslayer is actively handling is InProgress.
STATUS_TO_BUILDIUM: dict[str, str] = {
    "received": "New",
    "triaged": "InProgress",
    "offered": "InProgress",
    "accepted": "InProgress",
    "scheduled": "InProgress",
    "reopened": "InProgress",
    "escalated": "InProgress",
    "completed": "Completed",  # vendor says done; the tenant has not confirmed yet
    "verified": "Closed",
    "cancelled": "Closed",
    # The money side happens after the repair: for the resident request the job stays done.
    "invoice_awaited": "Closed",
    "coded": "Closed",
    "approved": "Closed",
    "billed": "Closed",
    "closed": "Closed",
}

# Opslayer priority -> Buildium task priority (Low | Normal | High). Emergency and urgent both need
# same-day attention, which Buildium only expresses as High; routine work is Buildium's Normal.
PRIORITY_TO_BUILDIUM: dict[str, str] = {"emergency": "High", "urgent": "High", "routine": "Normal"}

TASK_KINDS = {
    "ResidentRequest": "resident_request",
    "Todo": "todo",
    "ContactRequest": "contact_request",
    "RentalOwnerRequest": "owner_request",
}

# Phone types in the order we would text someone; Fax is never used.
PHONE_PREFERENCE = ("Cell", "Personal", "Home", "Office", "Other", "NotSet")

TITLE_MAX = 127  # Buildium rejects longer task titles
RETRY_AFTER_MAX = 60.0  # longer than this and the caller should retry later, not a Lambda sleeping
OPSLAYER_NOTES_MARKER = "--- Opslayer ---"
DEFAULT_BASE_URL = "https://api.buildium.com"  # the production Open API (the BuildiumBaseUrl parameter overrides it)

# Bill limits the spec states (BillPostMessage, BillLinePostMessage, FileNamePostMessage).
BILL_MEMO_MAX, BILL_LINE_MEMO_MAX, REFERENCE_NUMBER_MAX, FILE_NAME_MAX = 245, 240, 40, 255
# The spec states no size or type limit for bill files; this cap is Opslayer's (an invoice scan or PDF is
# far smaller), so a runaway attachment is refused before anything reaches Buildium.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# What an attachment's bytes must start with for its declared type ((offset, bytes) alternatives): the type
# is checked, not trusted.
FILE_SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "application/pdf": ((0, b"%PDF-"),),
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    "image/webp": ((8, b"WEBP"),),  # after "RIFF" and the size
    "image/tiff": ((0, b"II*\x00"), (0, b"MM\x00*")),
}


class BuildiumError(PmsError):
    """A Buildium call failed; `status` is the HTTP status (None for network errors), `reason` is short."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        ambiguous: bool = False,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(f"buildium: {reason}" + (f" (HTTP {status})" if status is not None else ""))
        self.reason = reason
        self.status = status
        self.ambiguous = ambiguous  # the request may have been processed (POST 5xx / read timeout)
        self.details = details or []  # Buildium's {Key, Value} validation errors: which field, and why


class BuildiumRejected(BuildiumError, PmsRejected):
    """Buildium refused the write (or would: checked before sending); the same write will fail again."""


class UnitWithoutLease(BuildiumRejected, UnitCannotHoldRequests):
    """Buildium ties a resident request to a lease: a vacant unit cannot hold one."""


def reference_tag(reference: str) -> str:
    """The marker that ties a Buildium record to an Opslayer work order (or, on a bill, to its invoice)."""
    return f"[Opslayer {reference}]"


REFERENCE_TAG = re.compile(r"\[Opslayer ([^\]\s]+)\]")


def _reference_in(text: str | None) -> str | None:
    found = REFERENCE_TAG.search(text or "")
    return found.group(1) if found else None


class BuildiumClient:
    """PmsPort for Buildium.

    Idempotent writes: the Opslayer reference is embedded as ``[Opslayer <ref>]`` at the start of the
    resident request title (and in its description) and of the work order's work details. Before
    creating, the client lists candidates as narrowly as the API allows and returns the one that carries
    the tag: resident requests by ``unitid`` + ``tasktitle`` (contains the bare reference; brackets are
    left out of the filter in case the server treats them as a LIKE character class), work orders by
    ``taskids``. A POST that fails ambiguously is followed by another lookup, never a blind re-POST.
    """

    name = "buildium"
    page_size = 1000  # Buildium's maximum

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
        timeout: float = 8.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        max_attachment_bytes: int = ATTACHMENT_MAX_BYTES,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._auth = {"x-buildium-client-id": client_id, "x-buildium-client-secret": client_secret}
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = backoff
        self._sleep = sleep
        self.max_attachment_bytes = max_attachment_bytes

    @classmethod
    def from_secret(cls, base_url: str, secret_json: str, **kwargs: Any) -> BuildiumClient:
        """Build from a Secrets Manager value ``{"client_id": ..., "client_secret": ...}``."""
        try:
            data = json.loads(secret_json)
            return cls(base_url, str(data["client_id"]), str(data["client_secret"]), **kwargs)
        except (ValueError, KeyError, TypeError):
            raise BuildiumError("invalid_credentials_secret") from None  # never echo the secret

    def __repr__(self) -> str:  # keep the secret out of reprs and tracebacks
        return f"BuildiumClient({self._base!r})"

    # ------------------------------------------------------------------ HTTP
    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                if retry_after > RETRY_AFTER_MAX:
                    raise BuildiumError("retry_after_too_long", response.status_code)
                return retry_after
        base = self._backoff * (2**attempt)
        return base + random.uniform(0, base / 2)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Json | None = None,
        allow_404: bool = False,
    ) -> requests.Response | None:
        retry_ambiguous = method in ("GET", "PUT")  # safe to repeat; POST creates
        url = self._base + path
        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                response = self._session.request(
                    method, url, params=params, json=body, headers=dict(self._auth), timeout=self._timeout
                )
            except requests.ConnectTimeout:
                failure = BuildiumError("connect_timeout")
            except requests.Timeout:
                failure = BuildiumError("timeout", ambiguous=not retry_ambiguous)
            except requests.ConnectionError:
                failure = BuildiumError("connection_error", ambiguous=not retry_ambiguous)
            else:
                status = response.status_code
                log.debug("buildium %s %s -> %s", method, path, status)
                if status < 400:
                    return response
                if status == 404 and allow_404:
                    return None
                if status == 429:
                    failure = BuildiumError("rate_limited", status)
                elif status >= 500:
                    failure = BuildiumError("server_error", status, ambiguous=not retry_ambiguous)
                else:
                    raise BuildiumError(_client_error_reason(status), status, details=_error_details(response))
                if not (last or failure.ambiguous):
                    log.warning("buildium %s %s -> %s, retrying", method, path, status)
                    self._sleep(self._delay(attempt, response))
                    continue
                raise failure
            if last or failure.ambiguous:
                raise failure
            log.warning("buildium %s %s: %s, retrying", method, path, failure.reason)
            self._sleep(self._delay(attempt, None))
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self._request("GET", path, params=params, allow_404=True)
        return None if response is None else _json(response)

    def _pages(self, path: str, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Json]:
        offset = start
        while True:
            query = {**(params or {}), "orderby": "Id", "offset": offset, "limit": self.page_size}
            response = self._request("GET", path, params=query)
            assert response is not None
            page = _json(response)
            if not isinstance(page, list):
                raise BuildiumError("unexpected_response", response.status_code)
            yield from page
            offset += len(page)
            total = _int_or_none(response.headers.get("X-Total-Count"))
            if not page or (total is not None and offset >= total) or (total is None and len(page) < self.page_size):
                return

    # ------------------------------------------------------------------ reads
    def get(self, kind: EntityKind, pms_id: str) -> object | None:
        data = self._get(ENDPOINTS[kind][0].format(id=_int_id(pms_id)))
        return None if data is None else MAPPERS[kind](data)

    def list(self, kind: EntityKind, start: int = 0) -> Iterator[object]:
        mapper = MAPPERS[kind]
        for item in self._pages(ENDPOINTS[kind][1], start=start):
            yield mapper(item)

    # ------------------------------------------------------------------ writes
    def ensure_resident_request(self, request: NewResidentRequest) -> str:
        tag = reference_tag(request.reference)
        unit_id = _int_id(request.unit_pms_id)

        def find() -> str | None:
            params = {"unitid": unit_id, "tasktitle": request.reference}
            for item in self._pages("/v1/tasks/residentrequests", params):
                if tag in (item.get("Title") or "") or tag in (item.get("Description") or ""):
                    return str(item["Id"])
            return None

        def create() -> Json:
            lease_id, tenant_id = self._lease_and_tenant(request)
            return {
                "Title": f"{tag} {request.title}"[:TITLE_MAX],
                "Description": f"{request.description}\n\n{tag}",
                "UnitAgreementId": lease_id,
                "RequestedByEntityId": tenant_id,
                "TaskStatus": STATUS_TO_BUILDIUM["received"],
                "Priority": _priority(request.priority),
            }

        return self._ensure("/v1/tasks/residentrequests", find, create)

    def ensure_work_order(self, order: NewWorkOrder) -> str:
        if not order.vendor_pms_id:
            raise BuildiumError("vendor_required")  # Buildium requires a vendor on every work order
        tag = reference_tag(order.reference)
        task_id = _int_id(order.task_pms_id)

        def find() -> str | None:
            for item in self._pages("/v1/workorders", {"taskids": [task_id]}):
                if tag in (item.get("WorkDetails") or ""):
                    return str(item["Id"])
            return None

        def create() -> Json:
            # The title belongs to the task the work order hangs off; the order keeps it in its details.
            return {
                "TaskId": task_id,
                "VendorId": _int_id(order.vendor_pms_id or ""),
                "EntryAllowed": "Unknown",
                "WorkDetails": f"{tag} {order.title}\n\n{order.description}",
            }

        return self._ensure("/v1/workorders", find, create)

    def _ensure(self, path: str, find: Callable[[], str | None], build: Callable[[], Json]) -> str:
        """Look up, then create; after an ambiguous POST failure look up again before re-posting."""
        for attempt in range(self._max_retries + 1):
            existing = find()
            if existing is not None:
                return existing
            try:
                response = self._request("POST", path, body=build())
            except BuildiumError as exc:
                if not exc.ambiguous or attempt == self._max_retries:
                    raise
                self._sleep(self._delay(attempt, None))
                continue
            assert response is not None
            created = _json(response)
            if isinstance(created, dict) and "Id" in created:
                return str(created["Id"])
            location = response.headers.get("Location", "")
            if location.rstrip("/").rsplit("/", 1)[-1].isdigit():
                return location.rstrip("/").rsplit("/", 1)[-1]
            raise BuildiumError("created_without_id", response.status_code)
        raise AssertionError("unreachable")  # pragma: no cover

    def ensure_bill(self, bill: NewBill) -> str:
        """The bill and its file, each written once.

        The Opslayer reference rides in the bill memo as ``[Opslayer <ref>]`` (ReferenceNumber is the vendor's
        invoice number, as an accountant expects). The lookup lists the vendor's bills whose reference number
        contains the invoice number, narrowed to the first line's property, and returns the tagged one; an
        untagged bill with exactly this invoice number (entered by hand) is refused, not duplicated. Every
        check (limits, attachment type and size, accounting entities) runs before anything is posted.
        """
        tag = reference_tag(bill.reference)
        vendor_id = _int_id(bill.vendor_pms_id)
        work_order_id = _int_id(bill.work_order_pms_id) if bill.work_order_pms_id else None
        number = bill.invoice_number.strip()
        if len(number) > REFERENCE_NUMBER_MAX:
            raise BuildiumRejected("invoice_number_too_long")
        attachment = _checked_attachment(bill.attachment, self.max_attachment_bytes) if bill.attachment else None
        lines = [self._bill_line(line) for line in bill.lines]
        body: Json = {
            "Date": bill.bill_date.isoformat(),
            "DueDate": bill.due_date.isoformat(),
            "VendorId": vendor_id,
            "ReferenceNumber": number or None,
            "Memo": _with_tag(bill.memo, tag, BILL_MEMO_MAX),
            "Lines": lines,
        }
        if work_order_id is not None:
            body["WorkOrderId"] = work_order_id

        def find() -> str | None:
            params: Json = {"vendorid": vendor_id}
            if number:
                params["referencenumber"] = number
            entity = lines[0]["AccountingEntity"]
            params.update(entityid=entity["Id"], entitytype=entity["AccountingEntityType"])
            by_hand = None
            for item in self._pages("/v1/bills", params):
                if tag in (item.get("Memo") or ""):
                    return str(item["Id"])
                if number and (item.get("ReferenceNumber") or "").strip().casefold() == number.casefold():
                    by_hand = item["Id"]
            if by_hand is not None:
                raise BuildiumRejected(f"vendor_invoice_exists:{by_hand}")
            return None

        try:
            bill_id = self._ensure("/v1/bills", find, lambda: body)
        except BuildiumError as exc:
            if exc.status in (400, 404, 409, 422) and not isinstance(exc, BuildiumRejected):
                raise BuildiumRejected(exc.reason, exc.status, details=exc.details) from None
            raise
        if attachment is not None:
            self._attach(bill_id, attachment)
        log.info("buildium bill %s ensured (work order %s)", bill_id, work_order_id)
        return bill_id

    def _bill_line(self, line: NewBillLine) -> Json:
        """BillLinePostMessage: the line's accounting entity is its rental property (and unit); a line that
        names only its unit gets the unit's property."""
        unit_id = _int_id(line.unit_pms_id) if line.unit_pms_id else None
        if line.property_pms_id:
            property_id = _int_id(line.property_pms_id)
        elif unit_id is not None:
            unit = self._get(f"/v1/rentals/units/{unit_id}")
            if not unit or not unit.get("PropertyId"):
                raise BuildiumRejected("unit_not_found")
            property_id = int(unit["PropertyId"])
        else:
            raise BuildiumRejected("bill_line_without_property")
        entity: Json = {"Id": property_id, "AccountingEntityType": "Rental"}
        if unit_id is not None:
            entity["UnitId"] = unit_id
        return {
            "AccountingEntity": entity,
            "GlAccountId": _int_id(line.gl_account_pms_id),
            "Amount": float(line.amount),  # two decimals (NewBillLine), exact as a double's shortest repr
            "Memo": _truncate(line.memo, BILL_LINE_MEMO_MAX),
        }

    def _attach(self, bill_id: str, attachment: BillAttachment) -> None:
        """Upload the file unless the bill already has one by that name. The upload is Buildium's two steps:
        an upload ticket (expires in 5 minutes; nothing is saved unless step 2 succeeds), then a multipart
        POST to the ticket's bucket URL with its form fields in order and the file last. A failed or
        ambiguous upload is retried with a fresh ticket after checking the bill's files again."""
        files_path = f"/v1/bills/{_int_id(bill_id)}/files"
        for attempt in range(self._max_retries + 1):
            if any((f.get("Title") or "") == attachment.filename for f in self._pages(files_path)):
                return
            try:
                response = self._request("POST", files_path + "/uploadrequests", body={"FileName": attachment.filename})
                assert response is not None
                self._upload(_json(response), attachment)
                return
            except BuildiumError as exc:
                if not exc.ambiguous or attempt == self._max_retries:
                    raise
                log.warning("buildium bill %s file upload failed (%s), retrying", bill_id, exc.reason)
                self._sleep(self._delay(attempt, None))
        raise AssertionError("unreachable")  # pragma: no cover

    def _upload(self, ticket: Any, attachment: BillAttachment) -> None:
        """Step 2. No Buildium credentials go to the bucket; the ticket's form data is a signed policy, never logged."""
        url = ticket.get("BucketUrl") if isinstance(ticket, dict) else None
        form = (ticket.get("FormData") or {}) if isinstance(ticket, dict) else None
        if not url or not isinstance(form, dict):
            raise BuildiumError("invalid_upload_ticket")
        if urlsplit(url).scheme != "https" and urlsplit(self._base).scheme == "https":
            raise BuildiumError("upload_url_not_https")
        fields = [(str(k), "" if v is None else str(v)) for k, v in form.items()]
        try:
            response = self._session.post(
                url,
                data=fields,
                files=[("file", (attachment.filename, attachment.data, attachment.content_type))],
                timeout=max(self._timeout, 30.0),
            )
        except requests.RequestException:
            raise BuildiumError("upload_failed", ambiguous=True) from None
        if response.status_code >= 300:
            raise BuildiumError("upload_failed", response.status_code, ambiguous=True)

    def _lease_and_tenant(self, request: NewResidentRequest) -> tuple[int, int]:
        """A resident request needs a lease (UnitAgreementId) and a resident: prefer the tenant's own lease
        on the unit, else the unit's active (then future) lease and its first current tenant."""
        unit_id = _int_id(request.unit_pms_id)
        rank = {"Active": 0, "Future": 1}
        if request.requested_by_pms_id:
            tenant = self._get(f"/v1/leases/tenants/{_int_id(request.requested_by_pms_id)}")
            leases = [x for x in (tenant or {}).get("Leases") or [] if x.get("UnitId") == unit_id]
            leases = sorted((x for x in leases if x.get("LeaseStatus") in rank), key=lambda x: rank[x["LeaseStatus"]])
            if leases:
                return int(leases[0]["Id"]), int(tenant["Id"])
        params = {"propertyids": [_int_id(request.property_pms_id)], "leasestatuses": ["Active", "Future"]}
        leases = [x for x in self._pages("/v1/leases", params) if x.get("UnitId") == unit_id]
        leases.sort(key=lambda x: rank.get(x.get("LeaseStatus", ""), 9))
        for lease in leases:
            current = [t["Id"] for t in lease.get("Tenants") or [] if t.get("Status") in ("Current", "Future")]
            current = current or [t["Id"] for t in lease.get("CurrentTenants") or []]
            if current:
                return int(lease["Id"]), int(current[0])
        raise UnitWithoutLease("no_lease_for_unit")

    def sync_work_order(self, work_order_pms_id: str | None, task_pms_id: str, state: WorkOrderSync) -> None:
        """PUT the work order (vendor, Opslayer notes) and the resident request (status, due date).
        Before a vendor accepts there is no Buildium work order yet (it requires a vendor): then only
        the resident request is brought up to date.

        Each side is skipped when nothing would change, so repeated syncs of the same state send no
        writes and add no task history. A record deleted in Buildium is logged and skipped.
        """
        if work_order_pms_id:
            wo_path = f"/v1/workorders/{_int_id(work_order_pms_id)}"
            current = self._get(wo_path)
            if current is None:
                log.warning("buildium work order %s is gone; nothing to sync", work_order_pms_id)
            else:
                before = work_order_put_body(current)
                after = dict(before)
                if state.vendor_pms_id:
                    after["VendorId"] = _int_id(state.vendor_pms_id)
                after["VendorNotes"] = _merge_notes(before.get("VendorNotes"), _opslayer_notes(state))
                if after != before:
                    self._request("PUT", wo_path, body=after)

        rr_path = f"/v1/tasks/residentrequests/{_int_id(task_pms_id)}"
        task = self._get(rr_path)
        if task is None:
            log.warning("buildium resident request %s is gone; nothing to sync", task_pms_id)
            return
        before = resident_request_put_body(task)
        after = dict(before)
        try:
            after["TaskStatus"] = STATUS_TO_BUILDIUM[state.status]
        except KeyError:
            raise BuildiumError(f"unknown_status:{state.status}") from None
        scheduled = state.scheduled_start or state.scheduled_end
        if scheduled is not None:
            after["DueDate"] = scheduled.astimezone(UTC).date().isoformat()
        if after != before:
            after["Message"] = f"Opslayer: {state.status}" + (f". {state.notes}" if state.notes else "")
            self._request("PUT", rr_path, body=after)


# ---------------------------------------------------------------------- request bodies (PUT = GET + merge)
def work_order_put_body(wo: Json) -> Json:
    """The WorkOrderPutMessage that leaves a work order as it is (PUT blanks omitted fields and
    replaces line items, so every writable field is carried over)."""
    contacts = [c["Id"] for c in wo.get("EntryContacts") or [] if c.get("Id") is not None]
    if not contacts and (wo.get("EntryContact") or {}).get("Id") is not None:
        contacts = [wo["EntryContact"]["Id"]]
    body: Json = {
        "WorkDetails": wo.get("WorkDetails"),
        "InvoiceNumber": wo.get("InvoiceNumber"),
        "ChargeableTo": wo.get("ChargeableTo"),
        "EntryAllowed": wo.get("EntryAllowed") or "Unknown",
        "EntryNotes": wo.get("EntryNotes"),
        "VendorId": wo.get("VendorId"),
        "VendorNotes": wo.get("VendorNotes"),
        "EntryContactIds": contacts or None,
        "LineItems": [
            {
                "GlAccountId": li.get("GlAccountId"),
                "Quantity": li.get("Quantity", 0),
                "Memo": li.get("Memo"),
                "UnitPrice": li.get("UnitPrice", 0),
            }
            for li in wo.get("LineItems") or []
        ],
    }
    return body


def resident_request_put_body(task: Json) -> Json:
    """The ResidentRequestTaskPutMessage that leaves a resident request as it is."""
    category = task.get("Category") or {}
    return {
        "Title": task.get("Title") or "Resident request",
        "CategoryId": category.get("Id"),
        "SubCategoryId": (category.get("SubCategory") or {}).get("Id"),
        "AssignedToUserId": task.get("AssignedToUserId"),
        "TaskStatus": task.get("TaskStatus") or "New",
        "Priority": task.get("Priority") or "Normal",
        "DueDate": task.get("DueDate"),
    }


def _opslayer_notes(state: WorkOrderSync) -> str:
    lines = [f"Status: {state.status}"]
    if state.scheduled_start:
        window = state.scheduled_start.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        if state.scheduled_end:
            window += "-" + state.scheduled_end.astimezone(UTC).strftime("%H:%M")
        lines.append(f"Scheduled: {window} UTC")
    if state.notes:
        lines.append(state.notes)
    return "\n".join(lines)


def _merge_notes(existing: str | None, ours: str) -> str:
    """Replace our block in the vendor notes, keeping what people wrote above it."""
    human = (existing or "").split(OPSLAYER_NOTES_MARKER, 1)[0].rstrip()
    return f"{human}\n\n{OPSLAYER_NOTES_MARKER}\n{ours}" if human else f"{OPSLAYER_NOTES_MARKER}\n{ours}"


def _truncate(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _with_tag(text: str, tag: str, limit: int) -> str:
    """`text` cut to fit, then the reference tag (which must survive whole: the lookup depends on it)."""
    text = text.strip()
    return f"{_truncate(text, limit - len(tag) - 1)} {tag}" if text else tag


def _checked_attachment(attachment: BillAttachment, max_bytes: int) -> BillAttachment:
    """Refuse what Buildium should not get, before anything is posted; return it with a safe file name."""
    if len(attachment.data) > max_bytes:
        raise BuildiumRejected("attachment_too_large")
    signatures = FILE_SIGNATURES.get(attachment.content_type)
    if signatures is None:
        raise BuildiumRejected("attachment_type_not_supported")
    if not any(attachment.data.startswith(magic, offset) for offset, magic in signatures):
        raise BuildiumRejected("attachment_content_mismatch")  # e.g. "application/pdf" that is not a PDF
    name = attachment.filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "invoice"
    if len(name) > FILE_NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: FILE_NAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:FILE_NAME_MAX]
    return attachment.model_copy(update={"filename": name})


def _priority(priority: str) -> str:
    try:
        return PRIORITY_TO_BUILDIUM[priority]
    except KeyError:
        raise BuildiumError(f"unknown_priority:{priority}") from None


# ---------------------------------------------------------------------- mapping Buildium JSON -> Pms*
def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _opt_id(value: Any) -> str | None:
    return None if value in (None, 0) else str(value)


def _snake(value: str | None) -> str:
    """Buildium enum -> our vocabulary: "InProgress" -> "in_progress"."""
    out = ""
    for i, ch in enumerate(value or ""):
        out += ("_" if i and ch.isupper() else "") + ch.lower()
    return out


def _date(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _datetime(value: Any) -> datetime | None:
    return parse_datetime(value) if value else None


def _address(data: Json | None) -> PmsAddress | None:
    if not data:
        return None
    return PmsAddress(
        line1=_s(data.get("AddressLine1")),
        line2=", ".join(x for x in (data.get("AddressLine2"), data.get("AddressLine3")) if x),
        city=_s(data.get("City")),
        state=_s(data.get("State")),
        postal_code=_s(data.get("PostalCode")),
        country=_s(data.get("Country")),
    )


def _phone(numbers: list[Json] | None) -> str | None:
    usable = [n for n in numbers or [] if (n.get("Number") or "").strip() and n.get("Type") != "Fax"]
    usable.sort(key=lambda n: PHONE_PREFERENCE.index(n["Type"]) if n.get("Type") in PHONE_PREFERENCE else 99)
    return usable[0]["Number"].strip() if usable else None


def _property(d: Json) -> PmsProperty:
    return PmsProperty(
        pms_id=str(d["Id"]),
        name=_s(d.get("Name")),
        address=_address(d.get("Address")) or PmsAddress(),
        is_active=d.get("IsActive", True),
    )


def _unit(d: Json) -> PmsUnit:
    return PmsUnit(
        pms_id=str(d["Id"]),
        property_pms_id=_s(d.get("PropertyId")),
        label=_s(d.get("UnitNumber")),
        address=_address(d.get("Address")),
        description=_s(d.get("Description")),
    )


def _tenant(d: Json) -> PmsTenant:
    return PmsTenant(
        pms_id=str(d["Id"]),
        first_name=_s(d.get("FirstName")),
        last_name=_s(d.get("LastName")),
        email=d.get("Email") or None,
        phone=_phone(d.get("PhoneNumbers")),
    )


LEASE_STATUS = {"Active": "active", "Past": "past", "Future": "future"}


def _lease(d: Json) -> PmsLease:
    status = LEASE_STATUS.get(d.get("LeaseStatus") or "", "past")
    tenants = d.get("Tenants")
    if tenants is None:
        ids = [t["Id"] for t in d.get("CurrentTenants") or []]
    elif status == "past":
        ids = [t["Id"] for t in tenants]
    else:
        ids = [t["Id"] for t in tenants if t.get("Status") != "MovedOut"]
    return PmsLease(
        pms_id=str(d["Id"]),
        property_pms_id=_s(d.get("PropertyId")),
        unit_pms_id=_s(d.get("UnitId")),
        tenant_pms_ids=[str(i) for i in ids],
        status=status,
        start=_date(d.get("LeaseFromDate")),
        end=_date(d.get("LeaseToDate")),
    )


def _vendor(d: Json) -> PmsVendor:
    person = f"{_s(d.get('FirstName'))} {_s(d.get('LastName'))}".strip()
    company = _s(d.get("CompanyName")).strip()
    category = d.get("Category") or {}
    return PmsVendor(
        pms_id=str(d["Id"]),
        name=(company if d.get("IsCompany") else person) or company or person,
        email=d.get("PrimaryEmail") or d.get("AlternateEmail") or None,
        phone=_phone(d.get("PhoneNumbers")),
        category_pms_id=_opt_id(category.get("Id")),
        category_name=category.get("Name") or None,
        address=_address(d.get("Address")),
        is_active=d.get("IsActive", True),
        insurance=_vendor_insurance(d.get("VendorInsurance")),
    )


def _vendor_insurance(d: Json | None) -> PmsVendorInsurance | None:
    """VendorInsuranceMessage; all fields empty (Buildium's default) is no insurance on file."""
    d = d or {}
    insurance = PmsVendorInsurance(provider=_s(d.get("Provider")).strip() or None,
                                   policy_number=_s(d.get("PolicyNumber")).strip() or None,
                                   expires_on=_date(d.get("ExpirationDate")))
    return insurance if insurance.model_dump(exclude_none=True) else None


def _vendor_category(d: Json) -> PmsVendorCategory:
    return PmsVendorCategory(pms_id=str(d["Id"]), name=_s(d.get("Name")))


def _gl_account(d: Json) -> PmsGLAccount:
    return PmsGLAccount(
        pms_id=str(d["Id"]),
        number=_s(d.get("AccountNumber")),
        name=_s(d.get("Name")),
        type=_s(d.get("Type")),
        is_active=d.get("IsActive", True),
    )


def _task(d: Json) -> PmsTask:
    """AllTasksMessage (any type) or ResidentRequestTaskMessage (no TaskType field: a resident request)."""
    requester = d.get("RequestedByUserEntity") or {}
    return PmsTask(
        pms_id=str(d["Id"]),
        kind=TASK_KINDS.get(d.get("TaskType") or "ResidentRequest", _snake(d.get("TaskType"))),
        title=_s(d.get("Title")),
        description=_s(d.get("Description")),
        property_pms_id=_opt_id((d.get("Property") or {}).get("Id")),
        unit_pms_id=_opt_id(d.get("UnitId")),
        requested_by_pms_id=_opt_id(requester.get("Id")) if requester.get("Type") == "RentalTenant" else None,
        status=_snake(d.get("TaskStatus")),
        priority=_snake(d.get("Priority")),
        updated_at=_datetime(d.get("LastUpdatedDateTime") or d.get("CreatedDateTime")),
    )


def _work_order(d: Json) -> PmsWorkOrder:
    task = d.get("Task") or {}
    return PmsWorkOrder(
        pms_id=str(d["Id"]),
        task_pms_id=_opt_id(task.get("Id")),
        vendor_pms_id=_opt_id(d.get("VendorId")),
        title=_s(d.get("Title") or task.get("Title")),
        description=_s(d.get("WorkDetails")),
        status=_snake(d.get("Status") or task.get("Status")),
        priority=_snake(d.get("Priority") or task.get("Priority")),
        due=_date(d.get("DueDate") or task.get("DueDate")),
    )


def _bill(d: Json) -> PmsBill:
    lines = d.get("Lines")
    total = None if lines is None else sum((Decimal(str(li.get("Amount") or 0)) for li in lines), Decimal(0))
    return PmsBill(
        pms_id=str(d["Id"]),
        vendor_pms_id=_opt_id(d.get("VendorId")),
        work_order_pms_id=_opt_id(d.get("WorkOrderId")),
        reference=_s(d.get("ReferenceNumber")),
        total=total,
        bill_date=_date(d.get("Date")),
        due=_date(d.get("DueDate")),
        memo=_s(d.get("Memo")),
        opslayer_reference=_reference_in(d.get("Memo")),
    )


MAPPERS: dict[EntityKind, Callable[[Json], object]] = {
    EntityKind.PROPERTY: _property,
    EntityKind.UNIT: _unit,
    EntityKind.TENANT: _tenant,
    EntityKind.LEASE: _lease,
    EntityKind.VENDOR: _vendor,
    EntityKind.VENDOR_CATEGORY: _vendor_category,
    EntityKind.GL_ACCOUNT: _gl_account,
    EntityKind.TASK: _task,
    EntityKind.WORK_ORDER: _work_order,
    EntityKind.BILL: _bill,
}


# ---------------------------------------------------------------------- helpers
def _int_id(pms_id: str) -> int:
    """Buildium ids are int32; refuse anything else before it reaches a URL."""
    text = str(pms_id).strip()
    if not text.isdigit() or int(text) > 2**31 - 1:
        raise BuildiumError("invalid_id")
    return int(text)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise BuildiumError("invalid_json", response.status_code) from None


def _retry_after(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unparseable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_details(response: requests.Response) -> list[dict[str, str]]:
    """Buildium's ApiErrorResponse.Errors as [{Key, Value}] (what field was wrong), if the body has them."""
    try:
        errors = response.json().get("Errors") or []
    except (ValueError, AttributeError):
        return []
    return [{"Key": str(e.get("Key") or ""), "Value": str(e.get("Value") or "")} for e in errors if isinstance(e, dict)]


def _client_error_reason(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        415: "unsupported_media_type",
        422: "validation_failed",
    }.get(status, "client_error")
