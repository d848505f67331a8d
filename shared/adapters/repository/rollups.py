"""KPI rollups: per-day aggregates by property x trade x priority x vendor, each work order's contribution
to them, and the status page views counted.

  a day's rollup bucket       PK=ROLLUP#<yyyy-mm>       SK=<day>|<property>|<trade>|<priority>|<vendor>
  a work order's facts        PK=KPIWO#<id>             SK=FACTS   (its contribution per bucket; versioned)
  status page views counted   PK=KPIWO#<id>             SK=VIEWS   (n; the last hour counted)

A bucket's counters are top-level numeric attributes named `n:<counter>` (ADD works on top-level attributes
only). A work order's contribution changes in one transaction: its facts item (conditional on its version)
and ADD of the difference to every bucket it touches, so concurrent consumers cannot double-count. A date
range is one Query per month partition (SK BETWEEN the first and the last day): a year is 12-13 Queries.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table
from shared.domain.errors import ConcurrentUpdate

COUNTER = "n:"


def rollup_pk(day: str) -> str:
    return f"ROLLUP#{day[:7]}"


def months(first: date, last: date) -> list[str]:
    """The yyyy-mm partitions a date range spans."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


class Rollups(Table):
    def rollup_facts(self, wo_id: str) -> tuple[dict[str, dict[str, int]], int]:
        """A work order's contribution to the rollups (bucket -> counters) and its version (0: none yet)."""
        data = self._get(f"KPIWO#{wo_id}", "FACTS")
        return (data.get("facts") or {}, int(data["version"])) if data else ({}, 0)

    def replace_rollup_facts(self, wo_id: str, facts: dict[str, dict[str, int]],
                             change: dict[str, dict[str, int]], expected_version: int) -> None:
        """Store a work order's new facts and ADD `change` (new minus old, per bucket) to the buckets, at once.
        ConcurrentUpdate when the facts changed since `expected_version` was read (decide again)."""
        item = self._item({"PK": f"KPIWO#{wo_id}", "SK": "FACTS", "facts": facts, "version": expected_version + 1})
        condition = ({"ConditionExpression": "attribute_not_exists(PK)"} if expected_version == 0 else
                     {"ConditionExpression": "version = :v",
                      "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}})
        ops: list[dict[str, Any]] = [{"Put": {"TableName": self.table, "Item": item, **condition}}]
        for key, counters in sorted(change.items()):
            names = {f"#c{i}": f"{COUNTER}{name}" for i, name in enumerate(sorted(counters))}
            values = {f":c{i}": {"N": str(counters[name])} for i, name in enumerate(sorted(counters))}
            day, prop, trade, priority, vendor = key.split("|")
            names.update({"#day": "day", "#p": "property_id", "#t": "trade", "#r": "priority", "#v": "vendor_id"})
            values.update({":day": {"S": day}, ":p": {"S": prop}, ":t": {"S": trade}, ":r": {"S": priority},
                           ":v": {"S": vendor}})
            adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counters)))
            ops.append({"Update": {
                "TableName": self.table, "Key": self._key(rollup_pk(day), key),
                "UpdateExpression": f"SET #day = :day, #p = :p, #t = :t, #r = :r, #v = :v ADD {adds}",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}})
        try:
            self.db.transact_write_items(TransactItems=ops)
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                raise ConcurrentUpdate(f"the KPI facts of {wo_id} changed meanwhile") from exc
            raise

    def rollups(self, first: date, last: date) -> list[dict[str, Any]]:
        """Every bucket from `first` to `last` (inclusive) with a counter not zero: {key, day, property,
        trade, priority, vendor, counters}. Queries only. (A bucket a work order moved out of keeps its
        zeroed counters; it reads as absent, like one never written.)"""
        found: list[dict[str, Any]] = []
        for month in months(first, last):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "PK = :pk AND SK BETWEEN :a AND :b",
                "ExpressionAttributeValues": {":pk": {"S": f"ROLLUP#{month}"}, ":a": {"S": first.isoformat()},
                                              ":b": {"S": f"{last.isoformat()}|~"}}}
            while True:
                resp = self.db.query(**kwargs)
                found += [row for i in resp["Items"] if (row := rollup_row(self._data(i)))["counters"]]
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return found

    def count_status_view(self, wo_id: str, hour: str) -> bool:
        """Count a view of the work order's status page if none was counted in this `hour` (an ISO
        "yyyy-mm-ddThh" in UTC): one conditional UpdateItem, a no-op (False) on every other view that hour."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(f"KPIWO#{wo_id}", "VIEWS"),
                UpdateExpression="SET last_hour = :h ADD n :one",
                ConditionExpression="attribute_not_exists(last_hour) OR last_hour < :h",
                ExpressionAttributeValues={":h": {"S": hour}, ":one": {"N": "1"}})
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def status_views(self, wo_id: str) -> int:
        """How many views of the work order's status page were counted (at most one an hour)."""
        data = self._get(f"KPIWO#{wo_id}", "VIEWS")
        return int(data["n"]) if data else 0

    def claim_owner_report(self, property_id: str, month: str, at: str) -> bool:
        """Record that the property's owner report of `month` is being sent; False if it already was."""
        return self._put_first({"PK": f"OWNERREPORT#{property_id}", "SK": month, "sent_at": at})

    def release_owner_report(self, property_id: str, month: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(f"OWNERREPORT#{property_id}", month))


def rollup_row(item: dict[str, Any]) -> dict[str, Any]:
    """A stored bucket as callers see it (both the adapter and its twin use this)."""
    day, prop, trade, priority, vendor = item["SK"].split("|")
    counters = {k[len(COUNTER):]: int(v) for k, v in item.items() if k.startswith(COUNTER) and int(v)}
    return {"key": item["SK"], "day": day, "property": prop, "trade": trade, "priority": priority,
            "vendor": vendor, "counters": counters}
