"""Patch: DynamoDB requests are atomic with respect to each other.

Moto gap closed: moto's DynamoDB backend is not thread-safe. ``TransactWriteItems`` deep-copies
whole tables while another thread writes (``RuntimeError: dictionary changed size during
iteration``), and a conditional write can interleave with another write to the same item, so the
version checks the domain relies on would not be atomic. On AWS each request is. In the local
cloud handlers run concurrently (API server threads, Step Functions workers, SQS batches), so
every DynamoDB request is served under one re-entrant lock. Requests take well under a
millisecond, and no DynamoDB request calls back into a handler here (the template has no table
stream mapping), so the lock cannot deadlock.

Second gap: ``TransactWriteItems`` deep-copies every table it names, for rollback, so each
transaction costs time proportional to the whole table (milliseconds per thousand items, growing
as the local stack is used). Here the transaction snapshots only the items it names and restores
those on failure; requests are serialised, so nothing else can change them in between.

Third gap: moto answers every item request through its generic, model-driven response serializer,
which walks each attribute of each item against the service model. For the item operations
(`ITEM_OPERATIONS`), whose results are already plain {type: value} JSON, that walk was the largest
cost of a local-cloud test run and it runs under the lock above. Their results are written with
``json.dumps`` instead (binary values base64-encoded, absent members left out, as the serializer
does); every other operation keeps moto's serializer.

Fourth gap: moto answers a query on a secondary index (and a scan) by sorting every item of the table, comparing
keys through ``DynamoType`` (several Python calls per comparison), then walking them all - per request, under
the lock above, and growing with the table: it was the largest cost of a local-cloud test session (about 40 % of
its CPU). Here the sorted item list is kept per table until the next request that may write
(``_generation``), it is sorted on the keys' plain values (the same order: key attributes are S, N or B), and
comparing two string values skips the type dispatch (the same answer as ``cast_value``).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from decimal import Decimal
from typing import Any

_applied = False
_lock = threading.Lock()
request_lock = threading.RLock()
# Requests that never change an item; any other request moves the generation on (under request_lock).
READ_ONLY = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable",
                       "ListTables", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource"})
_generation = 0
_writing = 0  # requests that may write, running: while one runs, nothing is kept


def apply() -> None:
    """Serialise ``DynamoHandler.call_action`` (in-process and server mode alike; idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.dynamodb.responses import DynamoHandler

        original = DynamoHandler.call_action

        def call_action(self: Any) -> Any:
            global _generation, _writing
            with request_lock:
                if self._get_action() in READ_ONLY:
                    return original(self)
                _writing += 1
                try:
                    return original(self)
                finally:
                    _writing -= 1
                    _generation += 1

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        _snapshot_items_not_tables()
        _plain_json_item_results()
        _sorted_items_kept()
        _applied = True


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: tables are not copied
    (item-level snapshots replace that), everything else is."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _item_key(backend: Any, entry: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    _, op = next(iter(entry.items()))
    table = backend.tables.get(op.get("TableName"))
    if table is None:
        return None
    if "Key" in op:
        return table.name, op["Key"]
    attrs = op.get("Item") or {}
    key = {k: attrs[k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in attrs}
    return table.name, key


def _snapshot_items_not_tables() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    models.copy = _NoTableCopy(Table)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = []
        for entry in transact_items[:100]:
            named = _item_key(self, entry) if isinstance(entry, dict) and entry else None
            if named:
                try:
                    current = self.get_item(*named)
                except Exception:  # an invalid key: moto's own validation will report it
                    continue
                before.append((named, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            return original(self, transact_items)
        except Exception:
            for (table_name, key), attrs in reversed(before):
                if attrs is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                             "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


def _wire(value: Any) -> Any:
    """A DynamoDB result as its JSON wire form: bytes base64-encoded, None members dropped."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def _plain_json_item_results() -> None:
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_OPERATIONS or isinstance(self.result, Exception):
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(_wire(self.result))

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def _plain(key: Any) -> Any:
    """A key attribute's value as ``DynamoType.cast_value`` gives it (S and B: the value; N: a Decimal)."""
    return Decimal(key.value) if key.type == "N" else key.value


def _sorted_items_kept() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def all_items(self: Any) -> list[Any]:
        kept = self.__dict__.get("_sorted_items")
        if _writing or kept is None or kept[0] != _generation:
            if self.range_key_attr:
                items = [item for by_range in self.items.values() for item in by_range.values()]
            else:
                items = list(self.items.values())
            items.sort(key=lambda x: (_plain(x.hash_key), _plain(x.range_key)) if x.range_key else _plain(x.hash_key))
            if _writing:
                return items
            kept = self.__dict__["_sorted_items"] = (_generation, items)
        return list(kept[1])  # callers may reorder their copy

    Table.all_items = all_items  # type: ignore[method-assign]
    equal, unequal = DynamoType.__eq__, DynamoType.__ne__

    def __eq__(self: Any, other: Any) -> bool:
        if self.type == "S" and getattr(other, "type", None) == "S":
            return self.value == other.value
        return equal(self, other)

    def __ne__(self: Any, other: Any) -> bool:
        if self.type == "S" and getattr(other, "type", None) == "S":
            return self.value != other.value
        return unequal(self, other)

    DynamoType.__eq__ = __eq__  # type: ignore[method-assign, assignment]
    DynamoType.__ne__ = __ne__  # type: ignore[method-assign, assignment]
