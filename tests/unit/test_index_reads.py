"""The work-order indexes project keys only: a list reads the ids there, then the work orders by BatchGetItem
(shared/adapters/repository/work_orders.py). What moto cannot show: a work order that has left the partition
since the index was read, and keys a throttled BatchGetItem leaves unread."""

from __future__ import annotations

from typing import Any

from shared.adapters.repository.work_orders import WorkOrders


def _entry(wo_id: str, status: str) -> dict[str, Any]:
    return {"PK": {"S": f"WO#{wo_id}"}, "SK": {"S": "WO"}, "GSI1PK": {"S": f"STATUS#{status}"},
            "GSI1SK": {"S": f"2026-12-04T09:00:00+00:00#{wo_id}"}}


def _item(wo_id: str, status: str) -> dict[str, Any]:
    return {**_entry(wo_id, status), "id": {"S": wo_id}, "status": {"S": status}}


class _Db:
    """BatchGetItem that leaves the last key unread the first time (as a throttled table may)."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items, self.requests = items, []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        (table, request), = RequestItems.items()
        assert request["ConsistentRead"] is True
        keys = request["Keys"]
        read, unread = (keys[:-1], keys[-1:]) if len(self.requests) == 1 else (keys, [])
        found = [self.items[k["PK"]["S"]] for k in read if k["PK"]["S"] in self.items]
        return {"Responses": {table: found},
                "UnprocessedKeys": {table: {"Keys": unread, "ConsistentRead": True}} if unread else {}}


def test_a_list_reads_the_work_orders_the_index_names_in_its_order_without_those_that_moved_or_went() -> None:
    db = _Db({"WO#a": _item("a", "triaged"), "WO#b": _item("b", "offered"), "WO#c": _item("c", "triaged")})
    repo = WorkOrders("t", client=db)
    entries = [_entry("c", "triaged"), _entry("b", "triaged"), _entry("gone", "triaged"), _entry("a", "triaged")]

    whole = repo._whole(entries, "GSI1")

    assert [w["id"] if w else None for w in whole] == ["c", None, None, "a"]  # b is offered now; gone is gone
    # the key left unread was read again, alone
    assert len(db.requests) == 2 and db.requests[1]["t"]["Keys"] == [{"PK": {"S": "WO#a"}, "SK": {"S": "WO"}}]
