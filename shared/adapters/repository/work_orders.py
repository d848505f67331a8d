"""Work orders (every write conditional on its version), their timeline, the status and property indexes.

  work order + timeline       PK=WO#<id>                SK=WO | TL#<at>#<n> | TL#ONCE#<key> (a done side effect)
  work orders by status       GSI1 PK=STATUS#<status>   SK=<created_at>#<id>   (keys only)
  work orders by property     GSI2 PK=PROPERTY#<id>     SK=<created_at>#<id>   (keys only)

The indexes project keys only: a save that keeps the status rewrites no index entry, and one that changes it
rewrites a few bytes in GSI1, not a copy of the work order (write units are billed per KB of the index entry).
A list reads the index for the ids, in order, then the work orders themselves (BatchGetItem, consistent).
  idempotency records         PK=IDEM#<scope>#<key>     SK=IDEM   (TTL)
  a person's work orders      PK=PERSON#<hash>          SK=WO#<id>   (written at creation; export / erasure)
  a unit's last completed job PK=RECALL#<unit id>       SK=<trade>   (work order id, completed at: recalls)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import WO_SK, Table
from shared.domain.errors import ConcurrentUpdate, IdempotencyConflict, NotFound
from shared.domain.privacy import person_hashes
from shared.domain.workorder import OPEN_STATUSES, Status, TimelineEntry, WorkOrder
from shared.ports import CompletedJob

BATCH_GET = 100  # keys per BatchGetItem (the service's limit)
BATCH_GET_ATTEMPTS = 8  # reads of the keys a throttled BatchGetItem left (with backoff) before giving up
MAX_PAGE_READ = 1000  # index items one list request reads at most (a filtered page may come back short)
QUERY_BATCH = 100  # index items one Query reads when a filter may drop some (fewer round trips than `limit`)


def query_batch(limit: int, max_read: int) -> int:
    """Items per Query of a page: at least the page, at most `max_read`."""
    return max(limit, min(QUERY_BATCH, max_read))


def index_of(partition: str) -> str:
    """The index a list partition lives in."""
    if partition.startswith("STATUS#"):
        return "GSI1"
    if partition.startswith("PROPERTY#"):
        return "GSI2"
    raise ValueError(f"not a work-order list partition: {partition!r}")


class WorkOrders(Table):
    def _whole(self, entries: list[dict[str, Any]], index: str) -> list[dict[str, Any] | None]:
        """The work orders that index entries name, aligned with them: None where the work order has left the
        entry's partition since (a status index entry read before its work order moved on) or is gone."""
        found: dict[str, dict[str, Any]] = {}
        keys = [{"PK": e["PK"], "SK": e["SK"]} for e in entries]
        for start in range(0, len(keys), BATCH_GET):
            request: dict[str, Any] = {self.table: {"Keys": keys[start:start + BATCH_GET], "ConsistentRead": True}}
            for attempt in range(BATCH_GET_ATTEMPTS):
                if attempt:  # keys the table did not read this time (throttled): again, after a backoff
                    time.sleep(min(1.0, 0.05 * 2 ** attempt))
                resp = self.db.batch_get_item(RequestItems=request)
                for raw in resp["Responses"].get(self.table, []):
                    data = self._data(raw)
                    found[data["PK"]] = data
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RuntimeError(f"BatchGetItem left {len(request[self.table]['Keys'])} keys unread")
        out: list[dict[str, Any] | None] = []
        for entry in entries:
            data = found.get(entry["PK"]["S"])
            out.append(data if data is not None and data.get(f"{index}PK") == entry[f"{index}PK"]["S"] else None)
        return out

    def _listed(self, entries: list[dict[str, Any]], index: str) -> list[WorkOrder]:
        return [WorkOrder.model_validate(d) for d in self._whole(entries, index) if d is not None]

    def _wo_item(self, wo: WorkOrder) -> dict[str, Any]:
        # Fields at their defaults (zero counters, empty lists, false flags) are left out: reading fills them
        # back in, and the item stays under 1 KB, one write unit per write instead of two.
        data = {**wo.model_dump(mode="json", exclude={"timeline"}, exclude_defaults=True),
                "version": wo.version, "status": wo.status.value}
        created = f"{data['created_at']}#{wo.id}"
        return self._item({
            "PK": f"WO#{wo.id}", "SK": WO_SK, "type": "work_order", **data,
            "GSI1PK": f"STATUS#{wo.status.value}", "GSI1SK": created,
            "GSI2PK": f"PROPERTY#{wo.property_id}", "GSI2SK": created,
        })

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
        ops += [{"Put": {"TableName": self.table, "Item": self._item(
            {"PK": f"PERSON#{person}", "SK": f"WO#{wo.id}", "work_order_id": wo.id})}}
            for person in person_hashes(wo.tenant)]
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

    def save(self, wo: WorkOrder, expected_version: int, entries: list[TimelineEntry] = ()) -> WorkOrder:
        """Write the new state of a work order if nobody changed it since `expected_version`, with its timeline
        entries in one transaction; a change without entries (a wait parking its task token) is one conditional
        PutItem (a transaction bills each item twice)."""
        new = wo.model_copy(update={"version": expected_version + 1})
        put = {
            "TableName": self.table, "Item": self._wo_item(new),
            "ConditionExpression": "#v = :expected",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
        try:
            if entries:
                self.db.transact_write_items(TransactItems=[{"Put": put}]
                                             + [self._timeline_put(wo.id, e) for e in entries])
            else:
                self.db.put_item(**put)
        except Exception as exc:
            if error_code(exc) in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ConcurrentUpdate("The work order changed in the meantime; reload and try again.",
                                       {"id": wo.id}) from exc
            raise
        return new

    def add_timeline(self, wo_id: str, entry: TimelineEntry) -> None:
        """A timeline entry that does not change the work order (an SMS reply, a deferral): one put (1 WRU; a
        transaction of one item would cost 2)."""
        self.db.put_item(**self._timeline_put(wo_id, entry)["Put"])

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
            found.extend(self._listed(resp["Items"], index))
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

    def page_work_orders(self, partition: str, limit: int, after: str | None = None,
                         created_before: str | None = None, keep: Callable[[WorkOrder], bool] | None = None,
                         max_read: int = MAX_PAGE_READ) -> tuple[list[WorkOrder], str | None]:
        """One page of a status (``STATUS#<s>``, GSI1) or property (``PROPERTY#<id>``, GSI2) partition, newest
        first: up to `limit` work orders `keep` accepts, created before `created_before` (ISO, a key condition),
        resuming after the index sort key `after` (ExclusiveStartKey). Returns them and the sort key to resume
        after, None when the partition is done. Reads at most about `max_read` items, so a filter that rarely
        matches gives a short page (with a resume key), never a whole partition in one request."""
        index = index_of(partition)
        condition, values = f"{index}PK = :pk", {":pk": {"S": partition}}
        if created_before:
            condition += f" AND {index}SK < :before"
            values[":before"] = {"S": created_before}
        kwargs: dict[str, Any] = {"TableName": self.table, "IndexName": index, "ScanIndexForward": False,
                                  "Limit": limit if keep is None else query_batch(limit, max_read),
                                  "KeyConditionExpression": condition,
                                  "ExpressionAttributeValues": values}
        if after:
            kwargs["ExclusiveStartKey"] = {"PK": {"S": f"WO#{after.rsplit('#', 1)[-1]}"}, "SK": {"S": WO_SK},
                                           f"{index}PK": {"S": partition}, f"{index}SK": {"S": after}}
        page: list[tuple[str, WorkOrder]] = []
        read = 0
        while True:
            resp = self.db.query(**kwargs)
            last = resp.get("LastEvaluatedKey")
            for n, (raw, data) in enumerate(zip(resp["Items"], self._whole(resp["Items"], index), strict=True),
                                            start=1):
                wo = WorkOrder.model_validate(data) if data is not None else None
                if wo is not None and (keep is None or keep(wo)):
                    page.append((raw[f"{index}SK"]["S"], wo))
                if len(page) == limit:  # full: more may follow if anything is left to read
                    more = n < len(resp["Items"]) or last is not None
                    return [w for _, w in page], page[-1][0] if more else None
            read += len(resp["Items"])
            if last is None:
                return [w for _, w in page], None
            if read >= max_read:
                return [w for _, w in page], last[f"{index}SK"]["S"]
            kwargs["ExclusiveStartKey"] = last

    def recent_work_orders(self, property_id: str, since: datetime) -> list[WorkOrder]:
        """Work orders of a property created since a moment (GSI2, newest first)."""
        found: list[WorkOrder] = []
        index = "GSI2"
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": index, "ScanIndexForward": False,
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK >= :since",
            "ExpressionAttributeValues": {":pk": {"S": f"PROPERTY#{property_id}"},
                                          ":since": {"S": since.isoformat()}}}
        while True:
            resp = self.db.query(**kwargs)
            found += self._listed(resp["Items"], index)
            if "LastEvaluatedKey" not in resp:
                return found
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def work_orders_in_status(self, status: str) -> list[WorkOrder]:
        """Every work order in a status, oldest first (GSI1, page by page; eventually consistent)."""
        found: list[WorkOrder] = []
        index = "GSI1"
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": index, "ScanIndexForward": True,
            "KeyConditionExpression": "GSI1PK = :pk", "ExpressionAttributeValues": {":pk": {"S": f"STATUS#{status}"}}}
        while True:
            resp = self.db.query(**kwargs)
            found += self._listed(resp["Items"], index)
            if "LastEvaluatedKey" not in resp:
                return found
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def rewrite_timeline(self, wo_id: str, rewrite: Callable[[str, str], str]) -> int:
        """Replace each timeline entry's detail with `rewrite(actor, detail)` where that changes it (its event
        and time stay); returns how many changed."""
        changed = 0
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True,
                                  "KeyConditionExpression": "PK = :pk AND begins_with(SK, :tl)",
                                  "ExpressionAttributeValues": {":pk": {"S": f"WO#{wo_id}"}, ":tl": {"S": "TL#"}}}
        while True:
            resp = self.db.query(**kwargs)
            for raw in resp["Items"]:
                item = self._data(raw)
                detail = item.get("detail", "")
                new = rewrite(item.get("actor", "system"), detail)
                if new != detail:
                    self.db.update_item(TableName=self.table, Key=self._key(item["PK"], item["SK"]),
                                        UpdateExpression="SET detail = :d",
                                        ExpressionAttributeValues={":d": {"S": new}})
                    changed += 1
            if "LastEvaluatedKey" not in resp:
                return changed
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def person_work_orders(self, person: str) -> list[str]:
        """Ids of the work orders created with this person (a `person_hash`) as their tenant contact."""
        return self._ids_under(f"PERSON#{person}", "work_order_id")

    def forget_person(self, person: str) -> int:
        """Delete a person's index entries; returns how many."""
        ids = self.person_work_orders(person)
        for wo_id in ids:
            self.db.delete_item(TableName=self.table, Key=self._key(f"PERSON#{person}", f"WO#{wo_id}"))
        return len(ids)

    def last_completed_job(self, unit_id: str, trade: str) -> CompletedJob | None:
        data = self._get(f"RECALL#{unit_id}", trade)
        if data is None:
            return None
        at = data.get("completed_at")
        return CompletedJob(data.get("work_order_id"), datetime.fromisoformat(at) if at else None)

    def note_completed_job(self, unit_id: str, trade: str, wo_id: str, completed_at: datetime) -> None:
        try:
            self.db.put_item(
                TableName=self.table,
                Item=self._item({"PK": f"RECALL#{unit_id}", "SK": trade, "work_order_id": wo_id,
                                 "completed_at": completed_at.isoformat()}),
                ConditionExpression="attribute_not_exists(completed_at) OR completed_at <= :at",
                ExpressionAttributeValues={":at": {"S": completed_at.isoformat()}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # else a later job of the unit and trade is recorded: it stays

    def seed_completed_job(self, unit_id: str, trade: str, wo_id: str | None, completed_at: datetime | None) -> None:
        self._put_first({"PK": f"RECALL#{unit_id}", "SK": trade, "work_order_id": wo_id,
                         "completed_at": completed_at.isoformat() if completed_at else None})

    def open_work_orders(self) -> list[WorkOrder]:
        result: list[WorkOrder] = []
        for s in OPEN_STATUSES:
            result += self.list_work_orders(status=s.value)
        return result
