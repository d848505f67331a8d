"""`InMemoryRepository`: the twin of `shared.adapters.repository.Repository`, split by kind of record like
the DynamoDB adapter. Items live in one `MemoryTable` under the same keys as the real table, so what a
method stores reads back exactly as DynamoDB gives it back (tests/contract/test_repository_contract.py
runs one suite over both)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from shared.adapters.repository.channels import DRILL_SINK
from shared.adapters.repository.directory import (
    ALL_PROPERTIES,
    ALL_TECHNICIANS,
    ALL_VENDORS,
    expiry_months,
    expiry_range,
    insurance_warned_key,
    units_key,
    vendor_index_keys,
)
from shared.adapters.repository.rollups import COUNTER, months, rollup_pk, rollup_row
from shared.adapters.repository.setups import setup_key, setup_log_key, stale_setup
from shared.adapters.repository.surveys import last_question_key, nps_due_key, survey_key
from shared.adapters.repository.table import done_sk
from shared.adapters.repository.work_orders import MAX_PAGE_READ, index_of, query_batch
from shared.domain.directory import Contact, Property, Unit, Vendor
from shared.domain.errors import ConcurrentUpdate, IdempotencyConflict, NotFound
from shared.domain.privacy import person_hashes
from shared.domain.workorder import OPEN_STATUSES, Status, TimelineEntry, WorkOrder
from shared.ports import CompletedJob
from tests.fakes.table import MemoryTable, condition_failed, transaction_cancelled

if TYPE_CHECKING:
    from shared.domain.invoices import Invoice

META = "META"
WO_SK = "WO"


class _Part:
    """One kind of record over the shared in-memory table."""

    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable()

    def _ids_under(self, pk: str, attribute: str) -> list[str]:
        return [i[attribute] for i in self.table.partition(pk)]

    def _timeline_item(self, wo_id: str, entry: TimelineEntry) -> dict[str, Any]:
        seq = self.table.next_sequence()
        sk = f"TL#{entry.at.isoformat()}#{seq:06x}"
        return {"PK": f"WO#{wo_id}", "SK": sk, "type": "timeline", "seq": seq, **entry.model_dump(mode="json")}


class InMemoryWorkOrders(_Part):
    """Work orders (versioned), their timeline, the status and property indexes."""

    def _wo_item(self, wo: WorkOrder) -> dict[str, Any]:
        data = wo.model_dump(mode="json", exclude={"timeline"})
        created = f"{data['created_at']}#{wo.id}"
        return {"PK": f"WO#{wo.id}", "SK": WO_SK, "type": "work_order", **data,
                "GSI1PK": f"STATUS#{wo.status.value}", "GSI1SK": created,
                "GSI2PK": f"PROPERTY#{wo.property_id}", "GSI2SK": created}

    def create_work_order(self, wo: WorkOrder, entry: TimelineEntry,
                          idempotency: tuple[str, str] | None = None, ttl_seconds: int = 86400) -> WorkOrder:
        idem_key = f"IDEM#{idempotency[0]}" if idempotency else None
        if (idem_key and self.table.exists(idem_key, "IDEM")) or self.table.exists(f"WO#{wo.id}", WO_SK):
            record = self.table.get(idem_key, "IDEM") if idem_key else None
            if idempotency is None or record is None:
                raise transaction_cancelled()
            if record["fingerprint"] != idempotency[1]:
                raise IdempotencyConflict("This Idempotency-Key was already used for a different request.")
            return self.get_work_order(record["work_order_id"])
        if idempotency:
            self.table.put({"PK": idem_key, "SK": "IDEM", "work_order_id": wo.id, "fingerprint": idempotency[1],
                            "expires_at": int(time.time()) + ttl_seconds})
        self.table.put(self._wo_item(wo))
        self.table.put(self._timeline_item(wo.id, entry))
        for person in person_hashes(wo.tenant):
            self.table.put({"PK": f"PERSON#{person}", "SK": f"WO#{wo.id}", "work_order_id": wo.id})
        return wo.model_copy(update={"timeline": [entry]})

    def get_work_order(self, wo_id: str, with_timeline: bool = False) -> WorkOrder:
        meta = self.table.get(f"WO#{wo_id}", WO_SK)
        if meta is None:
            raise NotFound("No such work order.", {"id": wo_id})
        if not with_timeline:
            return WorkOrder.model_validate(meta)
        items = self.table.partition(f"WO#{wo_id}")
        # Entries of one instant in the order written (`seq`: the fixed test clock makes many ties).
        written = sorted(((TimelineEntry.model_validate(i), i["seq"]) for i in items if i["SK"].startswith("TL#")),
                         key=lambda pair: (pair[0].at, pair[1]))
        timeline = [e for e, _ in written]
        pms = next((i for i in items if i["SK"] == "PMS"), {})
        linked = {k: pms[k] or meta.get(k) for k in ("pms_task_id", "pms_work_order_id") if k in pms}
        return WorkOrder.model_validate({**meta, **linked, "timeline": timeline})

    def save(self, wo: WorkOrder, expected_version: int, entries: list[TimelineEntry] = ()) -> WorkOrder:
        current = self.table.get(f"WO#{wo.id}", WO_SK)
        if current is None or current.get("version") != expected_version:
            raise ConcurrentUpdate("The work order changed in the meantime; reload and try again.", {"id": wo.id})
        new = wo.model_copy(update={"version": expected_version + 1})
        self.table.put(self._wo_item(new))
        for entry in entries:
            self.table.put(self._timeline_item(wo.id, entry))
        return new

    def add_timeline(self, wo_id: str, entry: TimelineEntry) -> None:
        self.table.put(self._timeline_item(wo_id, entry))

    def list_work_orders(self, status: str | None = None, property_id: str | None = None,
                         source: str | None = None, limit: int = 100) -> list[WorkOrder]:
        if property_id:
            queries = [("GSI2", f"PROPERTY#{property_id}")]
        elif status:
            queries = [("GSI1", f"STATUS#{status}")]
        else:
            queries = [("GSI1", f"STATUS#{s.value}") for s in Status]
        found: list[WorkOrder] = []
        for index, pk in queries:  # each Query reads at most `limit` items, newest first
            found += [WorkOrder.model_validate(i) for i in islice(self.table.index(index, pk), limit)]
        latest: dict[str, WorkOrder] = {}
        for w in found:
            if w.id not in latest or w.version > latest[w.id].version:
                latest[w.id] = w
        found = [w for w in latest.values() if (not status or w.status.value == status)
                 and (not source or w.source.value == source)]
        found.sort(key=lambda w: w.created_at, reverse=True)
        return found[:limit]

    def page_work_orders(self, partition: str, limit: int, after: str | None = None,
                         created_before: str | None = None, keep: Callable[[WorkOrder], bool] | None = None,
                         max_read: int = MAX_PAGE_READ) -> tuple[list[WorkOrder], str | None]:
        """Like the adapter, whose Queries read a batch at a time: `max_read` is checked after each batch."""
        index = index_of(partition)
        batch = limit if keep is None else query_batch(limit, max_read)
        rows = [(i[f"{index}SK"], i) for i in self.table.index(index, partition)
                if (after is None or i[f"{index}SK"] < after)
                and (created_before is None or i[f"{index}SK"] < created_before)]
        page: list[tuple[str, WorkOrder]] = []
        for n, (sk, item) in enumerate(rows, start=1):
            wo = WorkOrder.model_validate(item)
            if keep is None or keep(wo):
                page.append((sk, wo))
            if len(page) == limit:
                return [w for _, w in page], sk if n < len(rows) else None
            if n % batch == 0 and n >= max_read and n < len(rows):
                return [w for _, w in page], sk
        return [w for _, w in page], None

    def recent_work_orders(self, property_id: str, since: datetime) -> list[WorkOrder]:
        bound = since.isoformat()
        return [WorkOrder.model_validate(i) for i in self.table.index("GSI2", f"PROPERTY#{property_id}")
                if i["GSI2SK"] >= bound]

    def work_orders_in_status(self, status: str) -> list[WorkOrder]:
        return [WorkOrder.model_validate(i) for i in self.table.index("GSI1", f"STATUS#{status}", newest_first=False)]

    def rewrite_timeline(self, wo_id: str, rewrite: Callable[[str, str], str]) -> int:
        changed = 0
        for item in self.table.partition(f"WO#{wo_id}", "TL#"):
            detail = item.get("detail", "")
            new = rewrite(item.get("actor", "system"), detail)
            if new != detail:
                self.table.put({**item, "detail": new})
                changed += 1
        return changed

    def person_work_orders(self, person: str) -> list[str]:
        return self._ids_under(f"PERSON#{person}", "work_order_id")

    def forget_person(self, person: str) -> int:
        ids = self.person_work_orders(person)
        for wo_id in ids:
            self.table.delete(f"PERSON#{person}", f"WO#{wo_id}")
        return len(ids)

    def last_completed_job(self, unit_id: str, trade: str) -> CompletedJob | None:
        item = self.table.get(f"RECALL#{unit_id}", trade)
        if item is None:
            return None
        at = item.get("completed_at")
        return CompletedJob(item.get("work_order_id"), datetime.fromisoformat(at) if at else None)

    def note_completed_job(self, unit_id: str, trade: str, wo_id: str, completed_at: datetime) -> None:
        item = self.table.get(f"RECALL#{unit_id}", trade)
        if item is None or not item.get("completed_at") or item["completed_at"] <= completed_at.isoformat():
            self.table.put({"PK": f"RECALL#{unit_id}", "SK": trade, "work_order_id": wo_id,
                            "completed_at": completed_at.isoformat()})

    def seed_completed_job(self, unit_id: str, trade: str, wo_id: str | None, completed_at: datetime | None) -> None:
        if not self.table.exists(f"RECALL#{unit_id}", trade):
            self.table.put({"PK": f"RECALL#{unit_id}", "SK": trade, "work_order_id": wo_id,
                            "completed_at": completed_at.isoformat() if completed_at else None})

    def open_work_orders(self) -> list[WorkOrder]:
        result: list[WorkOrder] = []
        for s in OPEN_STATUSES:
            result += self.list_work_orders(status=s.value)
        return result


class InMemoryDirectory(_Part):
    """Properties, units, vendors (with their trade/area and email indexes and stats)."""

    def put_property(self, prop: Property) -> None:
        self.table.put({"PK": f"PROPERTY#{prop.id}", "SK": META, "type": "property", **prop.model_dump(mode="json")})
        self.table.put({"PK": ALL_PROPERTIES, "SK": f"PROPERTY#{prop.id}", "property_id": prop.id})

    def property_ids(self) -> list[str]:
        return self._ids_under(ALL_PROPERTIES, "property_id")

    def vendor_ids(self) -> list[str]:
        return self._ids_under(ALL_VENDORS, "vendor_id")

    def technician_ids(self) -> list[str]:
        return self._ids_under(ALL_TECHNICIANS, "vendor_id")

    def put_unit(self, unit: Unit) -> None:
        old = self.table.get(f"UNIT#{unit.id}", META)
        self.table.put({"PK": f"UNIT#{unit.id}", "SK": META, "type": "unit", **unit.model_dump(mode="json")})
        if not unit.drill:
            self.table.put({"PK": units_key(unit.property_id), "SK": f"UNIT#{unit.id}", "unit_id": unit.id})
        if old is not None and old.get("property_id") != unit.property_id:
            self.table.delete(units_key(old["property_id"]), f"UNIT#{unit.id}")

    def unit_ids(self, property_id: str) -> list[str]:
        return self._ids_under(units_key(property_id), "unit_id")

    def put_vendor(self, vendor: Vendor) -> None:
        old = self.table.get(f"VENDOR#{vendor.id}", META)
        keep = vendor_index_keys(vendor)
        self.table.put({"PK": f"VENDOR#{vendor.id}", "SK": META, "type": "vendor", **vendor.model_dump(mode="json")})
        for pk, sk in keep:
            self.table.put({"PK": pk, "SK": sk, "vendor_id": vendor.id})
        if old is not None:
            for pk, sk in vendor_index_keys(Vendor.model_validate(old)) - keep:
                self.table.delete(pk, sk)

    def vendors_for_email(self, email: str) -> list[str]:
        return self._ids_under(f"VENDOREMAIL#{email.strip().lower()}", "vendor_id")

    def vendors_insured_until(self, first: date, last: date) -> list[str]:
        low, high = expiry_range(first, last)
        return [i["vendor_id"] for month in expiry_months(first, last)
                for i in self.table.partition(f"INSURANCE#{month}") if low <= i["SK"] <= high]

    def claim_insurance_warning(self, vendor_id: str, expires_on: date, at: str) -> bool:
        pk, sk = insurance_warned_key(vendor_id, expires_on)
        return self.table.put_first({"PK": pk, "SK": sk, "type": "insurance_warning", "warned_at": at})

    def release_insurance_warning(self, vendor_id: str, expires_on: date) -> None:
        self.table.delete(*insurance_warned_key(vendor_id, expires_on))

    def get_property(self, prop_id: str) -> Property:
        data = self.table.get(f"PROPERTY#{prop_id}", META)
        if data is None:
            raise NotFound("No such property.", {"id": prop_id})
        return Property.model_validate(data)

    def get_unit(self, unit_id: str) -> Unit:
        data = self.table.get(f"UNIT#{unit_id}", META)
        if data is None:
            raise NotFound("No such unit.", {"unit_id": unit_id})
        return Unit.model_validate(data)

    def get_vendor(self, vendor_id: str) -> Vendor:
        data = self.table.get(f"VENDOR#{vendor_id}", META)
        if data is None:
            raise NotFound("No such vendor.", {"id": vendor_id})
        return Vendor.model_validate(data)

    def vendors_for(self, trade: str, area: str) -> list[Vendor]:
        return self.get_vendors(self._ids_under(f"VENDORS#{trade}#{area}", "vendor_id"))

    def get_vendors(self, ids: list[str]) -> list[Vendor]:
        """The vendors that exist, in the order asked (BatchGetItem promises no order)."""
        found = (self.table.get(f"VENDOR#{i}", META) for i in ids)
        return [Vendor.model_validate(data) for data in found if data is not None]

    def bump_vendor_stat(self, vendor_id: str, stat: str) -> None:
        if not self.table.exists(f"VENDOR#{vendor_id}", META):
            raise condition_failed()

        def bump(item: dict[str, Any]) -> None:
            stats = item.setdefault("stats", {})
            stats[stat] = stats.get(stat, 0) + 1

        self.table.update(f"VENDOR#{vendor_id}", META, bump)

    def find_unit(self, unit_id: str) -> Unit | None:
        try:
            return self.get_unit(unit_id)
        except NotFound:
            return None

    def find_property(self, prop_id: str) -> Property | None:
        try:
            return self.get_property(prop_id)
        except NotFound:
            return None

    def find_vendor(self, vendor_id: str) -> Vendor | None:
        try:
            return self.get_vendor(vendor_id)
        except NotFound:
            return None


class InMemoryInvoices(_Part):
    """Invoices of a work order (versioned) and vendors' invoice-number claims."""

    def save_invoice(self, inv: Invoice, expected_version: int | None) -> Invoice:
        new = inv.model_copy(update={"version": (expected_version or 0) + 1 if expected_version is not None else 1})
        pk, sk = f"WO#{inv.work_order_id}", f"INV#{inv.id}"
        current = self.table.get(pk, sk)
        if expected_version is None:
            refused = current is not None
        else:
            refused = current is None or current.get("version") != expected_version
        if refused:
            raise ConcurrentUpdate(f"invoice {inv.id} changed meanwhile")
        self.table.put({"PK": pk, "SK": sk, "type": "invoice", **new.model_dump(mode="json")})
        return new

    def get_invoice(self, wo_id: str, invoice_id: str) -> Invoice:
        from shared.domain.invoices import Invoice

        data = self.table.get(f"WO#{wo_id}", f"INV#{invoice_id}")
        if data is None:
            raise NotFound(f"No invoice {invoice_id}.")
        return Invoice.model_validate(data)

    def invoices_for(self, wo_id: str) -> list[Invoice]:
        from shared.domain.invoices import Invoice

        return sorted((Invoice.model_validate(i) for i in self.table.partition(f"WO#{wo_id}", "INV#")),
                      key=lambda i: i.submitted_at)

    def claim_invoice_number(self, vendor_id: str, number: str, invoice_id: str, wo_id: str) -> dict[str, Any] | None:
        key = number.strip().lower()
        if self.table.put_first({"PK": f"VINV#{vendor_id}", "SK": key, "invoice_id": invoice_id,
                                 "work_order_id": wo_id}):
            return None
        return self.table.get(f"VINV#{vendor_id}", key)


class InMemoryLinks(_Part):
    """Link tokens (by hash), first-write-wins markers of done side effects, expiring counters."""

    def put_link(self, digest: str, record: dict[str, Any], ttl_at: int) -> None:
        if not self.table.put_first({"PK": f"LINK#{digest}", "SK": "LINK", "type": "link", **record,
                                     "expires_at": ttl_at}):
            raise condition_failed()

    def get_link(self, digest: str) -> dict[str, Any] | None:
        return self.table.get(f"LINK#{digest}", "LINK")

    def close_link(self, digest: str, attribute: str, value: str) -> bool:
        item = self.table.get(f"LINK#{digest}", "LINK")
        if item is None or attribute in item or "revoked" in item:
            return False
        self.table.put({**item, attribute: value})
        return True

    def hit(self, counter: str, ttl_seconds: int) -> int:
        def add_one(item: dict[str, Any]) -> None:
            item["n"] = item.get("n", 0) + 1
            item.setdefault("expires_at", int(time.time()) + ttl_seconds)

        return int(self.table.update(counter, "COUNT", add_one)["n"])

    def done(self, key: str, wo_id: str) -> bool:
        return self.table.exists(f"WO#{wo_id}", done_sk(key))

    def done_under(self, prefix: str, wo_id: str) -> set[str]:
        start = done_sk("")
        return {item["SK"][len(start):] for item in self.table.partition(f"WO#{wo_id}", done_sk(prefix))}

    def mark_done(self, key: str, wo_id: str, entry: TimelineEntry) -> bool:
        if self.done(key, wo_id):
            return False
        self.table.put({**self._timeline_item(wo_id, entry), "SK": done_sk(key)})
        return True


class InMemoryPmsLinks(_Part):
    """PMS ids to Opslayer ids, the order of applied PMS events, what was last written to the PMS."""

    def advance_pms_event(self, kind: str, pms_id: str, occurred_at: str) -> bool:
        item = self.table.get(f"PMS#{kind}#{pms_id}", "LINK")
        if item is not None and "last_event_at" in item and not item["last_event_at"] <= occurred_at:
            return False
        self.table.update(f"PMS#{kind}#{pms_id}", "LINK", lambda i: i.update(last_event_at=occurred_at))
        return True

    def link_pms(self, kind: str, pms_id: str, opslayer_id: str) -> None:
        self.table.update(f"PMS#{kind}#{pms_id}", "LINK", lambda i: i.update(opslayer_id=opslayer_id))

    def pms_link(self, kind: str, pms_id: str) -> str | None:
        data = self.table.get(f"PMS#{kind}#{pms_id}", "LINK")
        return data.get("opslayer_id") if data else None

    def pms_state(self, wo_id: str) -> dict[str, Any]:
        return self.table.get(f"WO#{wo_id}", "PMS") or {}

    def put_pms_state(self, wo_id: str, task_id: str, order_id: str | None, synced_version: int) -> None:
        current = self.table.get(f"WO#{wo_id}", "PMS")
        if current is not None and "synced_version" in current and current["synced_version"] > synced_version:
            return
        self.table.put({"PK": f"WO#{wo_id}", "SK": "PMS", "pms_task_id": task_id, "pms_work_order_id": order_id,
                        "synced_version": synced_version})


class InMemoryChannels(_Part):
    """Tenant phones and emails, SMS opt-outs, inbound-message claims, configuration, small listed
    collections and plain records (sensors, incidents...)."""

    def index_tenant_phone(self, phone: str, unit_id: str) -> None:
        self.table.put({"PK": f"PHONE#{phone}", "SK": f"UNIT#{unit_id}", "unit_id": unit_id})

    def units_for_phone(self, phone: str) -> list[str]:
        return self._ids_under(f"PHONE#{phone}", "unit_id")

    def set_sms_opt_out(self, phone: str, opted_out: bool, at: str) -> None:
        if opted_out:
            self.table.put({"PK": f"SMSOPTOUT#{phone}", "SK": "SMSOPTOUT", "opted_out_at": at})
        else:
            self.table.delete(f"SMSOPTOUT#{phone}", "SMSOPTOUT")

    def sms_opted_out(self, phone: str) -> bool:
        return self.table.exists(f"SMSOPTOUT#{phone}", "SMSOPTOUT")

    def claim_inbound_sms(self, channel: str, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        return self.table.put_first({"PK": f"SMSIN#{channel}#{message_id}", "SK": "SMSIN",
                                     "expires_at": int(time.time()) + ttl_seconds})

    def index_tenant_email(self, address: str, unit_id: str) -> None:
        self.table.put({"PK": f"EMAIL#{address.strip().lower()}", "SK": f"UNIT#{unit_id}", "unit_id": unit_id})

    def units_for_email(self, address: str) -> list[str]:
        return self._ids_under(f"EMAIL#{address.strip().lower()}", "unit_id")

    def claim_inbound_email(self, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        return self.table.put_first({"PK": f"EMAILIN#{message_id}", "SK": "EMAILIN",
                                     "expires_at": int(time.time()) + ttl_seconds})

    def release_inbound_email(self, message_id: str) -> None:
        self.table.delete(f"EMAILIN#{message_id}", "EMAILIN")

    def put_config(self, name: str, value: dict[str, Any]) -> None:
        self.table.put({"PK": "CONFIG", "SK": name, "value": value})

    def get_config(self, name: str) -> dict[str, Any] | None:
        data = self.table.get("CONFIG", name)
        return data["value"] if data else None

    def put_config_entry(self, name: str, key: str, value: dict[str, Any] | None) -> None:
        if value is None:
            if self.table.get("CONFIG", name) is not None:
                self.table.update("CONFIG", name, lambda i: i["value"].pop(key, None))
            return
        self.table.put_first({"PK": "CONFIG", "SK": name, "value": {}})
        self.table.update("CONFIG", name, lambda i: i["value"].update({key: value}))

    def ops_contact(self) -> Contact | None:
        value = self.get_config("ops_contact")
        return Contact.model_validate(value) if value else None

    def get_record(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.table.get(pk, sk)

    def put_record(self, pk: str, sk: str, data: dict[str, Any]) -> None:
        self.table.put({"PK": pk, "SK": sk, **data})

    def add_to_set(self, pk: str, sk: str, attribute: str, value: str) -> None:
        item = self.table.get(pk, sk)
        if item is not None and value in item.get(attribute, []):
            return
        self.table.update(pk, sk, lambda i: i.update({attribute: [*i.get(attribute, []), value]}))

    def put_listed(self, collection: str, item_id: str, data: dict[str, Any]) -> None:
        self.table.put({"PK": collection, "SK": item_id, **data})

    def delete_listed(self, collection: str, item_id: str) -> None:
        self.table.delete(collection, item_id)

    def listed(self, collection: str) -> list[dict[str, Any]]:
        return self.table.partition(collection)

    def put_drill_message(self, sent_at: str, message_id: str, data: dict[str, Any], ttl_seconds: int) -> None:
        self.table.put({"PK": DRILL_SINK, "SK": f"{sent_at}#{message_id}", **data, "sent_at": sent_at,
                        "expires_at": int(time.time()) + ttl_seconds})

    def drill_messages(self, since: str, limit: int = 500) -> list[dict[str, Any]]:
        now = int(time.time())
        found = [i for i in self.table.partition(DRILL_SINK) if i["SK"] > since and int(i["expires_at"]) > now]
        return [{"id": i["SK"], **{k: v for k, v in i.items() if k not in ("PK", "SK", "expires_at")}}
                for i in found[:limit]]


class InMemorySetups(_Part):
    """Versioned setup records and their history (the /ops/config API)."""

    def setup(self, kind: str, item_id: str) -> dict[str, Any] | None:
        return self.table.get(*setup_key(kind, item_id))

    def setups(self, kind: str) -> list[dict[str, Any]]:
        return self.table.partition(f"SETUP#{kind}")

    def save_setup(self, kind: str, item_id: str, value: dict[str, Any], expected_version: int,
                   by: str, at: str) -> dict[str, Any]:
        pk, sk = setup_key(kind, item_id)
        current = self.table.get(pk, sk)
        if (current["version"] if current else 0) != expected_version:
            raise stale_setup(kind, item_id, expected_version)
        version = expected_version + 1
        record = {"kind": kind, "id": item_id, "version": version, "value": value, "by": by, "at": at}
        log_pk, log_sk = setup_log_key(kind, item_id, version)
        self.table.put({"PK": pk, "SK": sk, **record})
        self.table.put({"PK": log_pk, "SK": log_sk, **record})
        return self.table.get(pk, sk) or {}

    def setup_history(self, kind: str, item_id: str) -> list[dict[str, Any]]:
        return self.table.partition(f"SETUPLOG#{kind}#{item_id}")


class InMemorySurveys(_Part):
    """Tenant surveys: who is due an NPS question per quarter, each question (claimed once), the last asked."""

    def note_nps_due(self, quarter: str, tenant: str, data: dict[str, Any]) -> None:
        pk, sk = nps_due_key(quarter, tenant)
        self.table.put({"PK": pk, "SK": sk, "tenant": tenant, **data})

    def nps_due(self, quarter: str) -> list[dict[str, Any]]:
        return [_no_keys(i) for i in self.table.partition(f"NPSDUE#{quarter}")]

    def claim_survey(self, tenant: str, quarter: str, data: dict[str, Any]) -> bool:
        pk, sk = survey_key(tenant, quarter)
        return self.table.put_first({"PK": pk, "SK": sk, "tenant": tenant, "quarter": quarter, **data})

    def survey(self, tenant: str, quarter: str) -> dict[str, Any] | None:
        found = self.table.get(*survey_key(tenant, quarter))
        return _no_keys(found) if found else None

    def answer_survey(self, tenant: str, quarter: str, answer: dict[str, Any]) -> bool:
        found = self.table.get(*survey_key(tenant, quarter))
        if found is None or "score" in found:
            return False
        self.table.put({**found, **{k: v for k, v in answer.items() if v is not None}})
        return True

    def note_question(self, tenant: str, at: str) -> None:
        pk, sk = last_question_key(tenant)
        self.table.put({"PK": pk, "SK": sk, "at": at})

    def last_question_at(self, tenant: str) -> str | None:
        found = self.table.get(*last_question_key(tenant))
        return str(found["at"]) if found else None

    def tenant_surveys(self, tenant: str) -> list[dict[str, Any]]:
        return [{**_no_keys(i), "record": i["SK"]} for i in self.table.partition(f"SURVEY#{tenant}")]

    def forget_tenant(self, tenant: str) -> int:
        keys = [(f"SURVEY#{tenant}", s["record"]) for s in self.tenant_surveys(tenant)]
        keys += [nps_due_key(s["quarter"], tenant) for s in self.tenant_surveys(tenant) if "quarter" in s]
        for pk, sk in keys:
            self.table.delete(pk, sk)
        return len(keys)


def _no_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("PK", "SK")}


class InMemoryRollups(_Part):
    """KPI rollups: day buckets of counters, each work order's facts (versioned), events seen."""

    def rollup_facts(self, wo_id: str) -> tuple[dict[str, dict[str, int]], int]:
        data = self.table.get(f"KPIWO#{wo_id}", "FACTS")
        return (data.get("facts") or {}, int(data["version"])) if data else ({}, 0)

    def replace_rollup_facts(self, wo_id: str, facts: dict[str, dict[str, int]],
                             change: dict[str, dict[str, int]], expected_version: int) -> None:
        current = self.table.get(f"KPIWO#{wo_id}", "FACTS")
        if (int(current["version"]) if current else 0) != expected_version:
            raise ConcurrentUpdate(f"the KPI facts of {wo_id} changed meanwhile")
        self.table.put({"PK": f"KPIWO#{wo_id}", "SK": "FACTS", "facts": facts, "version": expected_version + 1})
        for key, counters in change.items():
            day, prop, trade, priority, vendor = key.split("|")
            item = self.table.get(rollup_pk(day), key) or {"PK": rollup_pk(day), "SK": key}
            item.update({"day": day, "property_id": prop, "trade": trade, "priority": priority, "vendor_id": vendor})
            for name, value in counters.items():
                item[f"{COUNTER}{name}"] = int(item.get(f"{COUNTER}{name}", 0)) + value
            self.table.put(item)

    def rollups(self, first: date, last: date) -> list[dict[str, Any]]:
        low, high = first.isoformat(), f"{last.isoformat()}|~"
        rows = [rollup_row(i) for month in months(first, last) for i in self.table.partition(f"ROLLUP#{month}")
                if low <= i["SK"] <= high]
        return [r for r in rows if r["counters"]]

    def count_status_view(self, wo_id: str, hour: str) -> bool:
        item = self.table.get(f"KPIWO#{wo_id}", "VIEWS")
        if item is not None and not item["last_hour"] < hour:
            return False
        self.table.update(f"KPIWO#{wo_id}", "VIEWS", lambda i: i.update(last_hour=hour, n=i.get("n", 0) + 1))
        return True

    def status_views(self, wo_id: str) -> int:
        item = self.table.get(f"KPIWO#{wo_id}", "VIEWS")
        return int(item["n"]) if item else 0

    def claim_owner_report(self, property_id: str, month: str, at: str) -> bool:
        return self.table.put_first({"PK": f"OWNERREPORT#{property_id}", "SK": month, "sent_at": at})

    def release_owner_report(self, property_id: str, month: str) -> None:
        self.table.delete(f"OWNERREPORT#{property_id}", month)


class InMemoryRepository(InMemoryWorkOrders, InMemoryDirectory, InMemoryInvoices, InMemoryLinks, InMemoryPmsLinks,
                         InMemoryChannels, InMemorySetups, InMemorySurveys, InMemoryRollups):
    """Every method of the DynamoDB repository, over one in-memory table (`self.table.items` to inspect)."""

    def __init__(self, table: MemoryTable | None = None) -> None:
        super().__init__(table)
