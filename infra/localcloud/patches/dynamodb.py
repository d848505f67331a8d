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
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from typing import Any

_applied = False
_lock = threading.Lock()
request_lock = threading.RLock()


def apply() -> None:
    """Serialise ``DynamoHandler.call_action`` (in-process and server mode alike; idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.dynamodb.responses import DynamoHandler

        original = DynamoHandler.call_action

        def call_action(self: Any) -> Any:
            with request_lock:
                return original(self)

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        _snapshot_items_not_tables()
        _plain_json_item_results()
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
