"""DynamoDB single-table repository.

Access patterns (no Scan anywhere):
  work order + timeline       PK=WO#<id>                SK=WO | TL#<at>#<n>
  its PMS sync state          PK=WO#<id>                SK=PMS   (kept apart: PMS writes never race lifecycle writes)
  work orders by status       GSI1 PK=STATUS#<status>   SK=<created_at>#<id>
  work orders by property     GSI2 PK=PROPERTY#<id>     SK=<created_at>#<id>
  property / unit / vendor    PK=PROPERTY#<id> | UNIT#<id> | VENDOR#<id>   SK=META
  vendors by trade and area   PK=VENDORS#<trade>#<area> SK=VENDOR#<id>   (adjacency list)
  vendors by email address    PK=VENDOREMAIL#<email>    SK=VENDOR#<id>   (inbound email invoices)
  idempotency records         PK=IDEM#<scope>#<key>     SK=IDEM   (TTL)
  dedupe markers              PK=ONCE#<key>             SK=ONCE   (TTL)
  link tokens                 PK=LINK#<hmac of token>   SK=LINK   (scope; TTL after the renewal grace)
  configuration               PK=CONFIG                 SK=<name>
  PMS links and event order   PK=PMS#<kind>#<pms id>    SK=LINK   (opslayer id, last applied event time)
  GL accounts from the PMS    PK=GLACCOUNTS             SK=<pms id>
  sensors and assets          PK=SENSOR#<id> | ASSETS   SK=META | <asset id>
  invoices of a work order    PK=WO#<id>                SK=INV#<invoice id>   (versioned like work orders)
  a vendor's invoice numbers  PK=VINV#<vendor id>       SK=<number, lower case> (duplicate check)
  unmatched invoices          PK=INVOICE_EXCEPTIONS     SK=<exception id>     (ops queue)
  tenant phone / email        PK=PHONE#<e164> | EMAIL#<address>   SK=UNIT#<unit id>   (inbound SMS / email)
Every work-order write is conditional on its version, so replays and races cannot corrupt it.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.adapters.aws import client as aws_client
from shared.adapters.aws import error_code
from shared.domain.directory import Contact, Property, Unit, Vendor
from shared.domain.errors import ConcurrentUpdate, IdempotencyConflict, NotFound
from shared.domain.workorder import OPEN_STATUSES, Status, TimelineEntry, WorkOrder

if TYPE_CHECKING:  # the invoice model is built on first use: most functions never touch invoices
    from shared.domain.invoices import Invoice

META = "META"
WO_SK = "WO"


def _stored(value: Any) -> Any:
    """A value DynamoDB accepts: floats become Decimals (through their shortest repr, so 0.1 stays 0.1)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Repository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = table_name
        self._client = client
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._ser = TypeSerializer()
        self._de = TypeDeserializer()

    @property
    def db(self) -> Any:
        if self._client is None:
            self._client = aws_client("dynamodb")
        return self._client

    # ------------------------------------------------------------ (de)serialisation
    def _item(self, data: dict[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(_stored(v)) for k, v in data.items() if v is not None}

    def _data(self, item: dict[str, Any]) -> dict[str, Any]:
        return _plain({k: self._de.deserialize(v) for k, v in item.items()})

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    def _get(self, pk: str, sk: str, consistent: bool = True) -> dict[str, Any] | None:
        resp = self.db.get_item(TableName=self.table, Key=self._key(pk, sk), ConsistentRead=consistent)
        return self._data(resp["Item"]) if "Item" in resp else None

    def _ids_under(self, pk: str, attribute: str) -> list[str]:
        """One attribute of every item of a small partition (an index entry per item)."""
        resp = self.db.query(TableName=self.table, KeyConditionExpression="PK = :pk",
                             ExpressionAttributeValues={":pk": {"S": pk}})
        return [self._data(i)[attribute] for i in resp["Items"]]

    def _put_first(self, data: dict[str, Any]) -> bool:
        """Put the item unless one with its key exists; True if this call created it."""
        try:
            self.db.put_item(TableName=self.table, Item=self._item(data),
                             ConditionExpression="attribute_not_exists(PK)")
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    # ------------------------------------------------------------ work orders
    def _wo_item(self, wo: WorkOrder) -> dict[str, Any]:
        data = wo.model_dump(mode="json", exclude={"timeline"})
        created = f"{data['created_at']}#{wo.id}"
        return self._item({
            "PK": f"WO#{wo.id}", "SK": WO_SK, "type": "work_order", **data,
            "GSI1PK": f"STATUS#{wo.status.value}", "GSI1SK": created,
            "GSI2PK": f"PROPERTY#{wo.property_id}", "GSI2SK": created,
        })

    def _timeline_put(self, wo_id: str, entry: TimelineEntry) -> dict[str, Any]:
        sk = f"TL#{entry.at.isoformat()}#{secrets.token_hex(3)}"
        data = {"PK": f"WO#{wo_id}", "SK": sk, "type": "timeline", **entry.model_dump(mode="json")}
        return {"Put": {"TableName": self.table, "Item": self._item(data)}}

    def create_work_order(self, wo: WorkOrder, entry: TimelineEntry,
                          idempotency: tuple[str, str] | None = None, ttl_seconds: int = 86400) -> WorkOrder:
        """Persist a new work order. With (scoped key, request fingerprint) a replay returns the first one."""
        ops: list[dict[str, Any]] = []
        if idempotency:
            key, fingerprint = idempotency
            ops.append({"Put": {
                "TableName": self.table,
                "Item": self._item({"PK": f"IDEM#{key}", "SK": "IDEM", "work_order_id": wo.id,
                                    "fingerprint": fingerprint, "expires_at": int(time.time()) + ttl_seconds}),
                "ConditionExpression": "attribute_not_exists(PK)",
            }})
        ops.append({"Put": {"TableName": self.table, "Item": self._wo_item(wo),
                            "ConditionExpression": "attribute_not_exists(PK)"}})
        ops.append(self._timeline_put(wo.id, entry))
        try:
            self.db.transact_write_items(TransactItems=ops)
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException" or not idempotency:
                raise
            record = self._get(f"IDEM#{idempotency[0]}", "IDEM")
            if record is None:
                raise
            if record["fingerprint"] != idempotency[1]:
                raise IdempotencyConflict(
                    "This Idempotency-Key was already used for a different request.") from exc
            return self.get_work_order(record["work_order_id"])
        return wo.model_copy(update={"timeline": [entry]})

    def get_work_order(self, wo_id: str, with_timeline: bool = False) -> WorkOrder:
        if not with_timeline:
            data = self._get(f"WO#{wo_id}", WO_SK)
            if data is None:
                raise NotFound("No such work order.", {"id": wo_id})
            return WorkOrder.model_validate(data)
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": f"WO#{wo_id}"}},
                                  "ConsistentRead": True}
        while True:
            resp = self.db.query(**kwargs)
            items.extend(self._data(i) for i in resp["Items"])
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        meta = next((i for i in items if i["SK"] == WO_SK), None)
        if meta is None:
            raise NotFound("No such work order.", {"id": wo_id})
        timeline = [TimelineEntry.model_validate(i) for i in items if i["SK"].startswith("TL#")]
        timeline.sort(key=lambda e: e.at)
        pms = next((i for i in items if i["SK"] == "PMS"), {})
        linked = {k: pms[k] or meta.get(k) for k in ("pms_task_id", "pms_work_order_id") if k in pms}
        return WorkOrder.model_validate({**meta, **linked, "timeline": timeline})

    def pms_state(self, wo_id: str) -> dict[str, Any]:
        """What was last written to the PMS for a work order: {pms_task_id, pms_work_order_id, synced_version}."""
        return self._get(f"WO#{wo_id}", "PMS") or {}

    def put_pms_state(self, wo_id: str, task_id: str, order_id: str | None, synced_version: int) -> None:
        """Record a PMS write. A slower writer never moves the synced version back."""
        try:
            self.db.put_item(
                TableName=self.table,
                Item=self._item({"PK": f"WO#{wo_id}", "SK": "PMS", "pms_task_id": task_id,
                                 "pms_work_order_id": order_id, "synced_version": synced_version}),
                ConditionExpression="attribute_not_exists(synced_version) OR synced_version <= :v",
                ExpressionAttributeValues={":v": {"N": str(synced_version)}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def save(self, wo: WorkOrder, expected_version: int, entries: list[TimelineEntry] = ()) -> WorkOrder:
        """Write the new state of a work order if nobody changed it since `expected_version`."""
        new = wo.model_copy(update={"version": expected_version + 1})
        ops = [{"Put": {
            "TableName": self.table, "Item": self._wo_item(new),
            "ConditionExpression": "#v = :expected",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }}]
        ops += [self._timeline_put(wo.id, e) for e in entries]
        try:
            self.db.transact_write_items(TransactItems=ops)
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                raise ConcurrentUpdate("The work order changed in the meantime; reload and try again.",
                                       {"id": wo.id}) from exc
            raise
        return new

    def list_work_orders(self, status: str | None = None, property_id: str | None = None,
                         source: str | None = None, limit: int = 100) -> list[WorkOrder]:
        if property_id:
            queries = [("GSI2", f"PROPERTY#{property_id}")]
        elif status:
            queries = [("GSI1", f"STATUS#{status}")]
        else:
            queries = [("GSI1", f"STATUS#{s.value}") for s in Status]
        found: list[WorkOrder] = []
        for index, pk in queries:
            kwargs: dict[str, Any] = {
                "TableName": self.table, "IndexName": index, "ScanIndexForward": False, "Limit": limit,
                "KeyConditionExpression": f"{index}PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
            }
            resp = self.db.query(**kwargs)
            found.extend(WorkOrder.model_validate(self._data(i)) for i in resp["Items"])
        # Status partitions are read one after another: an order that moved between two of them is seen
        # twice (GSIs are eventually consistent too). Keep its latest version.
        latest: dict[str, WorkOrder] = {}
        for w in found:
            if w.id not in latest or w.version > latest[w.id].version:
                latest[w.id] = w
        found = [w for w in latest.values() if (not status or w.status.value == status)
                 and (not source or w.source.value == source)]
        found.sort(key=lambda w: w.created_at, reverse=True)
        return found[:limit]

    def recent_work_orders(self, property_id: str, since: datetime) -> list[WorkOrder]:
        """Work orders of a property created since a moment (GSI2, newest first)."""
        found: list[WorkOrder] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": "GSI2", "ScanIndexForward": False,
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK >= :since",
            "ExpressionAttributeValues": {":pk": {"S": f"PROPERTY#{property_id}"},
                                          ":since": {"S": since.isoformat()}}}
        while True:
            resp = self.db.query(**kwargs)
            found += [WorkOrder.model_validate(self._data(i)) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                return found
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def open_work_orders(self) -> list[WorkOrder]:
        result: list[WorkOrder] = []
        for s in OPEN_STATUSES:
            result += self.list_work_orders(status=s.value)
        return result

    # ------------------------------------------------------------ directory
    def put_property(self, prop: Property) -> None:
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"PROPERTY#{prop.id}", "SK": META, "type": "property", **prop.model_dump(mode="json")}))

    def put_unit(self, unit: Unit) -> None:
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"UNIT#{unit.id}", "SK": META, "type": "unit", **unit.model_dump(mode="json")}))

    def put_vendor(self, vendor: Vendor) -> None:
        ops = [{"Put": {"TableName": self.table, "Item": self._item(
            {"PK": f"VENDOR#{vendor.id}", "SK": META, "type": "vendor", **vendor.model_dump(mode="json")})}}]
        for trade in vendor.trades:
            for area in vendor.service_areas:
                ops.append({"Put": {"TableName": self.table, "Item": self._item(
                    {"PK": f"VENDORS#{trade.value}#{area}", "SK": f"VENDOR#{vendor.id}", "vendor_id": vendor.id})}})
        if vendor.email:  # inbound email (invoices) finds the vendor by address
            ops.append({"Put": {"TableName": self.table, "Item": self._item(
                {"PK": f"VENDOREMAIL#{vendor.email.strip().lower()}", "SK": f"VENDOR#{vendor.id}",
                 "vendor_id": vendor.id})}})
        self.db.transact_write_items(TransactItems=ops)

    def vendors_for_email(self, email: str) -> list[str]:
        return self._ids_under(f"VENDOREMAIL#{email.strip().lower()}", "vendor_id")

    def get_property(self, prop_id: str) -> Property:
        data = self._get(f"PROPERTY#{prop_id}", META, consistent=False)
        if data is None:
            raise NotFound("No such property.", {"id": prop_id})
        return Property.model_validate(data)

    def get_unit(self, unit_id: str) -> Unit:
        data = self._get(f"UNIT#{unit_id}", META, consistent=False)
        if data is None:
            raise NotFound("No such unit.", {"unit_id": unit_id})
        return Unit.model_validate(data)

    def get_vendor(self, vendor_id: str) -> Vendor:
        data = self._get(f"VENDOR#{vendor_id}", META, consistent=False)
        if data is None:
            raise NotFound("No such vendor.", {"id": vendor_id})
        return Vendor.model_validate(data)

    def vendors_for(self, trade: str, area: str) -> list[Vendor]:
        return self.get_vendors(self._ids_under(f"VENDORS#{trade}#{area}", "vendor_id"))

    def get_vendors(self, ids: list[str]) -> list[Vendor]:
        vendors: list[Vendor] = []
        for start in range(0, len(ids), 100):
            keys = [self._key(f"VENDOR#{i}", META) for i in ids[start:start + 100]]
            request = {self.table: {"Keys": keys}}
            while request:
                resp = self.db.batch_get_item(RequestItems=request)
                vendors += [Vendor.model_validate(self._data(i)) for i in resp["Responses"].get(self.table, [])]
                request = resp.get("UnprocessedKeys") or {}
        return vendors

    def bump_vendor_stat(self, vendor_id: str, stat: str) -> None:
        self.db.update_item(TableName=self.table, Key=self._key(f"VENDOR#{vendor_id}", META),
                            UpdateExpression="SET stats.#s = if_not_exists(stats.#s, :zero) + :one",
                            ExpressionAttributeNames={"#s": stat},
                            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
                            ConditionExpression="attribute_exists(PK)")

    def put_config(self, name: str, value: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=self._item({"PK": "CONFIG", "SK": name, "value": value}))

    def get_config(self, name: str) -> dict[str, Any] | None:
        data = self._get("CONFIG", name, consistent=False)
        return data["value"] if data else None

    def ops_contact(self) -> Contact | None:
        value = self.get_config("ops_contact")
        return Contact.model_validate(value) if value else None

    # ------------------------------------------------------------ PMS links, GL accounts, small lists
    def advance_pms_event(self, kind: str, pms_id: str, occurred_at: str) -> bool:
        """Record that an event of this time was applied; False if a newer one already was (stale)."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(f"PMS#{kind}#{pms_id}", "LINK"),
                UpdateExpression="SET last_event_at = :t",
                ConditionExpression="attribute_not_exists(last_event_at) OR last_event_at <= :t",
                ExpressionAttributeValues={":t": {"S": occurred_at}})
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def link_pms(self, kind: str, pms_id: str, opslayer_id: str) -> None:
        self.db.update_item(TableName=self.table, Key=self._key(f"PMS#{kind}#{pms_id}", "LINK"),
                            UpdateExpression="SET opslayer_id = :o",
                            ExpressionAttributeValues={":o": {"S": opslayer_id}})

    def pms_link(self, kind: str, pms_id: str) -> str | None:
        data = self._get(f"PMS#{kind}#{pms_id}", "LINK")
        return data.get("opslayer_id") if data else None

    def get_record(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._get(pk, sk)

    def put_record(self, pk: str, sk: str, data: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=self._item({"PK": pk, "SK": sk, **data}))

    def add_to_set(self, pk: str, sk: str, attribute: str, value: str) -> None:
        """Append to a list attribute unless already there (a replayed join is a no-op)."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(pk, sk),
                UpdateExpression="SET #a = list_append(if_not_exists(#a, :empty), :v)",
                ConditionExpression="NOT contains(#a, :s)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"L": [{"S": value}]}, ":empty": {"L": []}, ":s": {"S": value}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def put_listed(self, collection: str, item_id: str, data: dict[str, Any]) -> None:
        """An item of a small, bounded collection read in one Query (GL accounts, assets)."""
        self.db.put_item(TableName=self.table, Item=self._item({"PK": collection, "SK": item_id, **data}))

    def delete_listed(self, collection: str, item_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(collection, item_id))

    def listed(self, collection: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": collection}}}
        while True:
            resp = self.db.query(**kwargs)
            items += [self._data(i) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

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

    # ------------------------------------------------------------ dedupe
    def hit(self, counter: str, ttl_seconds: int) -> int:
        """Add one to a counter that expires; returns the new count (one UpdateItem)."""
        resp = self.db.update_item(
            TableName=self.table, Key=self._key(counter, "COUNT"),
            UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :ttl)",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(int(time.time()) + ttl_seconds)}},
            ReturnValues="UPDATED_NEW")
        return int(resp["Attributes"]["n"]["N"])

    def done(self, key: str) -> bool:
        """Whether an at-least-once side effect (a message sent, say) was already recorded."""
        return self._get(f"ONCE#{key}", "ONCE") is not None

    def mark_done(self, key: str, wo_id: str, entry: TimelineEntry, ttl_seconds: int = 30 * 86400) -> None:
        """Record a side effect as done and add it to the work order's timeline, atomically."""
        marker = {"Put": {"TableName": self.table, "Item": self._item(
            {"PK": f"ONCE#{key}", "SK": "ONCE", "expires_at": int(time.time()) + ttl_seconds})}}
        self.db.transact_write_items(TransactItems=[marker, self._timeline_put(wo_id, entry)])

    # ------------------------------------------------------------ link tokens (only their hashes)
    def put_link(self, digest: str, record: dict[str, Any], ttl_at: int) -> None:
        """Store a new link's scope under its hash; a collision (never expected) fails loudly."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"LINK#{digest}", "SK": "LINK", "type": "link", **record, "expires_at": ttl_at}),
            ConditionExpression="attribute_not_exists(PK)")

    def get_link(self, digest: str) -> dict[str, Any] | None:
        return self._get(f"LINK#{digest}", "LINK")

    def close_link(self, digest: str, attribute: str, value: str) -> bool:
        """Set a one-time mark on a live link (`answered`, `revoked`); False if it was already set, the
        link was revoked, or it does not exist."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(f"LINK#{digest}", "LINK"),
                UpdateExpression="SET #a = :v",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#a) "
                                    "AND attribute_not_exists(revoked)",
                ExpressionAttributeNames={"#a": attribute}, ExpressionAttributeValues={":v": {"S": value}})
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    # ------------------------------------------------------------ SMS (tenant phones, opt-outs, inbound dedupe)
    #   tenant phone -> units      PK=PHONE#<e164>           SK=UNIT#<unit id>
    #   SMS opt-out (STOP)         PK=SMSOPTOUT#<e164>       SK=SMSOPTOUT
    #   inbound SMS seen           PK=SMSIN#<channel>#<id>   SK=SMSIN   (TTL)
    def index_tenant_phone(self, phone: str, unit_id: str) -> None:
        """Point a tenant's phone at their unit (written with every tenant contact; read by inbound SMS)."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"PHONE#{phone}", "SK": f"UNIT#{unit_id}", "unit_id": unit_id}))

    def units_for_phone(self, phone: str) -> list[str]:
        return self._ids_under(f"PHONE#{phone}", "unit_id")

    def set_sms_opt_out(self, phone: str, opted_out: bool, at: str) -> None:
        key = self._key(f"SMSOPTOUT#{phone}", "SMSOPTOUT")
        if opted_out:
            self.db.put_item(TableName=self.table, Item={**key, "opted_out_at": {"S": at}})
        else:
            self.db.delete_item(TableName=self.table, Key=key)

    def sms_opted_out(self, phone: str) -> bool:
        return self._get(f"SMSOPTOUT#{phone}", "SMSOPTOUT") is not None

    def claim_inbound_sms(self, channel: str, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        """True the first time this inbound message id is seen; False for a provider's retry (duplicate)."""
        return self._put_first({"PK": f"SMSIN#{channel}#{message_id}", "SK": "SMSIN",
                                "expires_at": int(time.time()) + ttl_seconds})

    # ------------------------------------------------------------ invoices
    def save_invoice(self, inv: Invoice, expected_version: int | None) -> Invoice:
        """Create (expected_version None) or update an invoice with a version check."""
        new = inv.model_copy(update={"version": (expected_version or 0) + 1 if expected_version is not None else 1})
        item = self._item({"PK": f"WO#{inv.work_order_id}", "SK": f"INV#{inv.id}", "type": "invoice",
                           **new.model_dump(mode="json")})
        condition = {"ConditionExpression": "attribute_not_exists(PK)"} if expected_version is None else {
            "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}
        try:
            self.db.put_item(TableName=self.table, Item=item, **condition)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(f"invoice {inv.id} changed meanwhile") from exc
            raise
        return new

    def get_invoice(self, wo_id: str, invoice_id: str) -> Invoice:
        from shared.domain.invoices import Invoice

        data = self._get(f"WO#{wo_id}", f"INV#{invoice_id}")
        if data is None:
            raise NotFound(f"No invoice {invoice_id}.")
        return Invoice.model_validate(data)

    def invoices_for(self, wo_id: str) -> list[Invoice]:
        from shared.domain.invoices import Invoice

        resp = self.db.query(TableName=self.table, KeyConditionExpression="PK = :pk AND begins_with(SK, :inv)",
                             ExpressionAttributeValues={":pk": {"S": f"WO#{wo_id}"}, ":inv": {"S": "INV#"}},
                             ConsistentRead=True)
        return sorted((Invoice.model_validate(self._data(i)) for i in resp["Items"]), key=lambda i: i.submitted_at)

    def claim_invoice_number(self, vendor_id: str, number: str, invoice_id: str, wo_id: str) -> dict[str, Any] | None:
        """Record a vendor's invoice number; returns the earlier claim if the number was already used."""
        key = number.strip().lower()
        if self._put_first({"PK": f"VINV#{vendor_id}", "SK": key, "invoice_id": invoice_id, "work_order_id": wo_id}):
            return None
        return self._get(f"VINV#{vendor_id}", key)

    # ------------------------------------------------------------ email (tenant addresses, inbound dedupe)
    #   tenant email -> units      PK=EMAIL#<lower-case address>   SK=UNIT#<unit id>
    #   inbound email seen         PK=EMAILIN#<SES message id>     SK=EMAILIN   (TTL)
    def index_tenant_email(self, address: str, unit_id: str) -> None:
        """Point a tenant's email address at their unit (read by inbound email, like phones for SMS)."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"EMAIL#{address.strip().lower()}", "SK": f"UNIT#{unit_id}", "unit_id": unit_id}))

    def units_for_email(self, address: str) -> list[str]:
        return self._ids_under(f"EMAIL#{address.strip().lower()}", "unit_id")

    def claim_inbound_email(self, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        """True the first time SES delivers this message id; False for a repeated delivery."""
        return self._put_first({"PK": f"EMAILIN#{message_id}", "SK": "EMAILIN",
                                "expires_at": int(time.time()) + ttl_seconds})

    def release_inbound_email(self, message_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(f"EMAILIN#{message_id}", "EMAILIN"))

    def add_timeline(self, wo_id: str, entry: TimelineEntry) -> None:
        """A timeline entry that does not change the work order (an SMS reply, a deferral)."""
        self.db.transact_write_items(TransactItems=[self._timeline_put(wo_id, entry)])
