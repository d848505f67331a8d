"""Versioned setup records (the /ops/config API): the current version of each (kind, id) and every
version before it, who wrote it and when.

  current setup of a kind     PK=SETUP#<kind>             SK=<id>      {version, value, by, at}   (a kind's
                              records in one Query: the export reads a partition per kind, never a Scan)
  its history                 PK=SETUPLOG#<kind>#<id>     SK=V#<version, 8 digits>   (oldest first)
A write is one transaction: the current record on the condition that its version is still the expected one
(absent for version 0), and the history entry.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table
from shared.domain.errors import ConcurrentUpdate


def setup_key(kind: str, item_id: str) -> tuple[str, str]:
    return f"SETUP#{kind}", item_id


def setup_log_key(kind: str, item_id: str, version: int) -> tuple[str, str]:
    return f"SETUPLOG#{kind}#{item_id}", f"V#{version:08d}"


def stale_setup(kind: str, item_id: str, expected: int) -> ConcurrentUpdate:
    return ConcurrentUpdate(f"The {kind} setup {item_id!r} changed since version {expected}; reload and try again.",
                            {"kind": kind, "id": item_id, "expected_version": expected})


class Setups(Table):
    def _query_all(self, pk: str) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                                 "ExpressionAttributeValues": {":pk": {"S": pk}}, "ConsistentRead": True}
        items: list[dict[str, Any]] = []
        while True:
            resp = self.db.query(**query)
            items += [self._data(i) for i in resp["Items"]]
            if not resp.get("LastEvaluatedKey"):
                return items
            query["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def setup(self, kind: str, item_id: str) -> dict[str, Any] | None:
        """The current version record {kind, id, version, value, by, at}, or None (never written)."""
        return self._get(*setup_key(kind, item_id))

    def setups(self, kind: str) -> list[dict[str, Any]]:
        """Every current record of a kind, by id."""
        return sorted(self._query_all(f"SETUP#{kind}"), key=lambda r: r["SK"])

    def save_setup(self, kind: str, item_id: str, value: dict[str, Any], expected_version: int,
                   by: str, at: str) -> dict[str, Any]:
        """Write version expected_version + 1 if the current one is still expected_version (0: none yet);
        ConcurrentUpdate otherwise. Returns the new current record."""
        version = expected_version + 1
        record = {"kind": kind, "id": item_id, "version": version, "value": value, "by": by, "at": at}
        pk, sk = setup_key(kind, item_id)
        if expected_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            condition = {"ConditionExpression": "version = :expected",
                         "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}}}
        log_pk, log_sk = setup_log_key(kind, item_id, version)
        try:
            self.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table, "Item": self._item({"PK": pk, "SK": sk, **record}), **condition}},
                {"Put": {"TableName": self.table, "Item": self._item({"PK": log_pk, "SK": log_sk, **record}),
                         "ConditionExpression": "attribute_not_exists(PK)"}},
            ])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                raise stale_setup(kind, item_id, expected_version) from exc
            raise
        return {"PK": pk, "SK": sk, **record}

    def setup_history(self, kind: str, item_id: str) -> list[dict[str, Any]]:
        """Every version of a record, oldest first."""
        return self._query_all(f"SETUPLOG#{kind}#{item_id}")
