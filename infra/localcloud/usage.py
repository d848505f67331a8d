"""Metering for the local cloud: every AWS API request the stack makes (and the Lambda time it uses),
so a benchmark can say what one work order costs on AWS. Off unless a meter is running."""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Usage:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation) -> count
    dynamodb_write_units: float = 0.0
    dynamodb_writes: Counter[str] = field(default_factory=Counter)  # WRU by record kind (table and index writes)
    dynamodb_read_units: float = 0.0
    lambda_invocations: Counter[str] = field(default_factory=Counter)
    lambda_gb_seconds: float = 0.0


_lock = threading.Lock()
_current: Usage | None = None
_applied = False
_thread = threading.local()
# A request to the local API with this header is an observer's (a benchmark polling the ops view to see
# when a step is done): what it costs is not the work order's, so it is left out of the meter.
UNMETERED_HEADER = "X-Local-Unmetered"


@contextmanager
def metering() -> Any:
    """Collect usage for the duration of the block."""
    global _current
    usage = Usage()
    with _lock:
        _current = usage
    try:
        yield usage
    finally:
        with _lock:
            _current = None


@contextmanager
def unmetered() -> Any:
    """Leave this thread's AWS requests and Lambda time out of the meter for the duration of the block."""
    _thread.off = True
    try:
        yield
    finally:
        _thread.off = False


def _meter() -> Usage | None:
    """The running meter, unless this thread is unmetered."""
    return None if getattr(_thread, "off", False) else _current


def record_request(event_name: str, body: bytes | str | None, *, delivered: bool = False) -> None:
    usage = _meter()
    if usage is None or not event_name.startswith("before-send."):
        return
    _, service, operation = event_name.split(".", 2)
    if service == "sqs" and operation == "SendMessage" and not delivered:
        return  # counted once, when the poller delivers the message (sends by moto itself are not seen here)
    with _lock:
        usage.requests[(service, operation)] += 1
        if service == "dynamodb":
            _dynamodb_units(usage, operation, body)


WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})

# Record kinds by partition key prefix (shared/adapters/repository/__init__.py lists the access patterns).
_KINDS = {"IDEM": "idempotency record", "PERSON": "person index (erasure)", "ONCE": "done marker (ONCE)",
          "LINK": "link token", "ROLLUP": "KPI rollup bucket", "RECALL": "unit's last completed job",
          "SMSIN": "inbound message claim", "EMAILIN": "inbound message claim", "PMS": "PMS link",
          "VINV": "vendor invoice number", "NPSDUE": "NPS due", "SURVEY": "survey", "DRILLSINK": "drill sink"}


def record_kind(key: dict[str, Any]) -> str:
    """What a DynamoDB item is for, from its key (DynamoDB JSON)."""
    pk = str(next(iter(key.get("PK", {}).values()), ""))
    sk = str(next(iter(key.get("SK", {}).values()), ""))
    head = pk.split("#", 1)[0]
    if head == "WO":
        if sk == "WO":
            return "work order"
        if sk.startswith("TL#ONCE#"):
            return "timeline entry (a done side effect)"  # the first-write-wins marker of a message sent...
        if sk.startswith("TL#"):
            return "timeline entry"
        if sk.startswith("INV#"):
            return "invoice"
        return f"work order {sk.split('#', 1)[0]} record"
    if head == "KPIWO":
        return f"KPI work order {sk.lower()}"
    return _KINDS.get(head, head.lower() or "other")


def _write_targets(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(table, key or whole item, transactional) of every item a write request writes."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(params.get("TableName", ""), params.get("Item") or params.get("Key") or {}, False)]
    if operation == "TransactWriteItems":
        out = []
        for op in params.get("TransactItems", []):
            kind, spec = next(iter(op.items()), ("", {}))
            if kind != "ConditionCheck":  # a condition check is a read (billed as such)
                out.append((spec.get("TableName", ""), spec.get("Item") or spec.get("Key") or {}, True))
        return out
    if operation == "BatchWriteItem":
        return [(table, (r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") or {}), False)
                for table, requests in params.get("RequestItems", {}).items() for r in requests]
    return []


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


class Stored:
    """An item as the table holds it, for metering: its size, the values of its index keys and, per index,
    the size and fingerprint of its entry there (the attributes the index projects; without them, the whole
    item: a projection of ALL)."""

    def __init__(self, size: int, index_keys: dict[str, tuple[Any, ...]], fingerprint: str,
                 index_entries: dict[str, tuple[int, str]] | None = None) -> None:
        self.size, self.index_keys, self.fingerprint = size, index_keys, fingerprint
        self.index_entries = index_entries

    def entry(self, index: str) -> tuple[int, str]:
        """(size, fingerprint) of this item's entry in an index."""
        if self.index_entries is not None and index in self.index_entries:
            return self.index_entries[index]
        return self.size, self.fingerprint


def _dynamodb_writes(usage: Usage, operation: str, params: dict[str, Any],
                     states: list[tuple[Stored | None, Stored | None]] | None = None) -> None:
    """Write units as on-demand bills them: per item, 1 per KB of the larger of the item before and after
    (2 in a transaction), plus, per global secondary index, 1 per KB of the index entry the write puts,
    rewrites (its key or a projected attribute changed) or deletes; a write that changes only attributes
    the index does not project writes nothing there. Without `states` (no table to look at) every item
    counts as under 1 KB with no index entry."""
    for n, (_, key, transactional) in enumerate(_write_targets(operation, params)):
        before, after = states[n] if states else (None, None)
        kind = record_kind(key)
        size = max(before.size if before else 0, after.size if after else 0)
        units = _kb(size) * (2 if transactional else 1)
        usage.dynamodb_write_units += units
        usage.dynamodb_writes[kind] += units
        if before is not None and after is not None and before.fingerprint == after.fingerprint:
            continue  # nothing changed (a failed condition): no index write
        for index in {*(before.index_keys if before else {}), *(after.index_keys if after else {})}:
            old = before.index_keys.get(index) if before else None
            new = after.index_keys.get(index) if after else None
            index_units = 0
            if old is not None and old != new:
                index_units += _kb(before.entry(index)[0])  # type: ignore[union-attr]
            if new is not None and (old != new or before.entry(index)[1] != after.entry(index)[1]):  # type: ignore[union-attr]
                index_units += _kb(after.entry(index)[0])  # type: ignore[union-attr]
            if index_units:
                usage.dynamodb_write_units += index_units
                usage.dynamodb_writes[f"{kind} [{index}]"] += index_units


def _dynamodb_units(usage: Usage, operation: str, body: bytes | str | None) -> None:
    """Read units of a read request, write units of a write request whose tables are not looked at."""
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        params = {}
    if operation in WRITE_OPERATIONS:
        _dynamodb_writes(usage, operation, params)
    elif operation == "GetItem":
        usage.dynamodb_read_units += 1 if params.get("ConsistentRead") else 0.5
    elif operation == "BatchGetItem":
        usage.dynamodb_read_units += 0.5 * sum(len(t.get("Keys", [])) for t in params.get("RequestItems", {}).values())
    elif operation == "Query":
        usage.dynamodb_read_units += 1 if params.get("ConsistentRead") else 0.5


def _stored(table_name: str, key: dict[str, Any]) -> Stored | None:
    """The item with this key in moto's table (None when absent or the table is unknown)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    for regions in list(dynamodb_backends.values()):
        for backend in list(regions.values()):
            table = backend.tables.get(table_name)
            if table is None:
                continue
            hash_key = DynamoType(key[table.hash_key_attr]) if table.hash_key_attr in key else None
            range_attr = table.range_key_attr
            if hash_key is None or (range_attr and range_attr not in key):
                return None
            item = table.get_item(hash_key, DynamoType(key[range_attr]) if range_attr else None)
            if item is None:
                return None
            index_keys, index_entries = {}, {}
            for index in table.global_indexes:
                values = tuple(str(item.attrs[a].value) if a in item.attrs else None for a in index.schema_key_attrs)
                if all(v is not None for v in values):
                    index_keys[index.name] = values
                    entry = index.project(item)  # a new Item: the stored one is untouched
                    index_entries[index.name] = (entry.size(), _fingerprint(entry))
            return Stored(item.size(), index_keys, _fingerprint(item), index_entries)
    return None


def _fingerprint(item: Any) -> str:
    return json.dumps(item.to_json(), sort_keys=True, default=str)


def record_invocation(function_name: str, seconds: float, memory_mb: int) -> None:
    usage = _meter()
    if usage is None:
        return
    with _lock:
        usage.lambda_invocations[function_name] += 1
        # Lambda bills per ms with a 1 ms minimum; local timings stand in for AWS's.
        usage.lambda_gb_seconds += max(seconds, 0.001) * memory_mb / 1024


def apply() -> None:
    """Count requests at moto's botocore stubber (every in-process AWS call passes there)."""
    global _applied
    if _applied:
        return
    from infra.localcloud.patches import stubber

    def metered(proceed: Callable[[], Any], _stubber: Any, event_name: str, request: Any) -> Any:
        usage = _meter()
        if usage is None:
            return proceed()
        operation = event_name.rsplit(".", 1)[-1]
        if not event_name.startswith("before-send.dynamodb.") or operation not in WRITE_OPERATIONS:
            record_request(event_name, getattr(request, "body", None))
            return proceed()
        # A write: look at each item before and after, to bill its size and its index entries.
        try:
            params = json.loads(getattr(request, "body", None) or b"{}")
        except ValueError:
            params = {}
        targets = _write_targets(operation, params)
        before = [_stored(table, key) for table, key, _ in targets]
        response = proceed()
        after = [_stored(table, key) for table, key, _ in targets]
        with _lock:
            usage.requests[("dynamodb", operation)] += 1
            _dynamodb_writes(usage, operation, params, list(zip(before, after, strict=True)))
        return response

    stubber.wrap(metered)
    _applied = True
