"""The ops list as a use case on the fakes: pages that follow a signed cursor to the end without a repeat
or a gap, the filters (status or stage, property, source, age, overdue), and cursors that are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.domain.directory import Contact
from shared.domain.enums import Priority
from shared.domain.errors import InvalidInput, MalformedRequest
from shared.domain.ops_lists import parse_filters
from shared.domain.workorder import Source, Status, TimelineEntry, WorkOrder
from shared.services import ops_lists
from shared.services.container import Services


def add(svc: Services, wo_id: str, minutes_ago: float, status: Status = Status.RECEIVED,
        property_id: str = "prop-maple", source: Source = Source.WEB, **fields: Any) -> WorkOrder:
    at = svc.clock() - timedelta(minutes=minutes_ago)
    wo = WorkOrder(id=wo_id, status=status, property_id=property_id, unit_id="unit-maple-1a", source=source,
                   tenant=Contact(name="Ana", phone="+15550100010"), description="Faucet drips",
                   priority=Priority.ROUTINE, created_at=at, updated_at=at, **fields)
    return svc.repo.create_work_order(wo, TimelineEntry(at=at, event="received"))


def every_page(svc: Services, limit: int, **query: str) -> list[list[str]]:
    filters = parse_filters(**query)
    pages, cursor = [], None
    while True:
        got = ops_lists.page(svc, filters, limit, cursor)
        pages.append([w["id"] for w in got["work_orders"]])
        assert got["count"] == len(got["work_orders"]) <= limit
        cursor = got["next_cursor"]
        if cursor is None:
            return pages


def test_pages_follow_the_cursor_through_every_status_without_repeats(svc: Services) -> None:
    for n in range(7):
        add(svc, f"wo-r{n}", minutes_ago=100 - n)
    for n in range(4):
        add(svc, f"wo-o{n}", minutes_ago=50 - n, status=Status.OFFERED)
    pages = every_page(svc, 3)
    seen = [i for p in pages for i in p]
    assert sorted(seen) == sorted([f"wo-r{n}" for n in range(7)] + [f"wo-o{n}" for n in range(4)])
    assert len(seen) == len(set(seen)) and all(len(p) == 3 for p in pages[:-1])
    # newest first within a status, the statuses in their order (received before offered)
    assert seen[:7] == [f"wo-r{n}" for n in reversed(range(7))]


def test_a_property_a_status_a_stage_and_a_source(svc: Services) -> None:
    add(svc, "wo-1", 30)
    add(svc, "wo-2", 20, property_id="prop-harbor", source=Source.SMS)
    add(svc, "wo-3", 10, status=Status.ACCEPTED)
    add(svc, "wo-4", 5, status=Status.ACCEPTED, property_id="prop-harbor")
    assert every_page(svc, 10, property_id="prop-harbor") == [["wo-4", "wo-2"]]
    assert every_page(svc, 10, status="accepted") == [["wo-4", "wo-3"]]
    assert every_page(svc, 10, stage="schedule") == [["wo-4", "wo-3"]]  # accepted = waiting to schedule
    assert every_page(svc, 10, property_id="prop-harbor", status="accepted") == [["wo-4"]]
    assert every_page(svc, 10, source="sms") == [["wo-2"]]
    with pytest.raises(InvalidInput):
        parse_filters(status="received", stage="schedule")


def test_older_than_is_fixed_by_the_first_page(svc: Services) -> None:
    for n in range(5):
        add(svc, f"wo-{n}", minutes_ago=(n + 1) * 60)  # 1 h ... 5 h old
    filters = parse_filters(older_than="150m")
    first = ops_lists.page(svc, filters, 1)
    assert [w["id"] for w in first["work_orders"]] == ["wo-2"]
    svc.clock.advance(hours=10)  # everything is old now; the list the caller started stays the same
    add(svc, "wo-new", minutes_ago=600)
    rest = ops_lists.page(svc, filters, 10, first["next_cursor"])
    assert ([w["id"] for w in rest["work_orders"]], rest["next_cursor"]) == (["wo-3", "wo-4"], None)


def test_overdue_is_past_the_stage_timer(svc: Services) -> None:
    accept = svc.settings.timeouts.stages["accept"][Priority.ROUTINE] / 60
    add(svc, "wo-late", minutes_ago=accept + 1, status=Status.OFFERED)
    add(svc, "wo-waiting", minutes_ago=accept - 1, status=Status.OFFERED)
    add(svc, "wo-received", minutes_ago=10 * accept)  # automatic statuses have no stage timer
    got = ops_lists.page(svc, parse_filters(overdue="true"), 10)
    assert [w["id"] for w in got["work_orders"]] == ["wo-late"] and got["work_orders"][0]["overdue"]
    everything = ops_lists.page(svc, parse_filters(status="offered"), 10)["work_orders"]
    assert {w["id"]: w["overdue"] for w in everything} == {"wo-waiting": False, "wo-late": True}


def test_a_cursor_cannot_be_edited_or_moved_to_other_filters(svc: Services) -> None:
    for n in range(3):
        add(svc, f"wo-{n}", minutes_ago=n)
    cursor = ops_lists.page(svc, parse_filters(), 1)["next_cursor"]
    body, mac = cursor.split(".")
    tampered = [body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac, "garbage", cursor + ".x",
                "é.é", body + "." + mac[:-1]]
    for bad in tampered:
        with pytest.raises(MalformedRequest) as refused:
            ops_lists.page(svc, parse_filters(), 1, bad)
        assert refused.value.details == {"parameter": "cursor"}
    with pytest.raises(MalformedRequest):
        ops_lists.page(svc, parse_filters(status="received"), 1, cursor)  # signed, but for another list
    assert ops_lists.page(svc, parse_filters(), 1, cursor)["work_orders"][0]["id"] == "wo-1"


def test_a_job_that_moves_on_while_the_page_is_read_is_listed_once_as_it_is_now(svc: Services) -> None:
    """The list reads one status partition after another: a job triaged while `received` was being read is
    met again under `triaged`. It is listed once, in its newer state."""
    moving = add(svc, "wo-moving", 5)
    add(svc, "wo-still", 4)
    read = svc.repo.page_work_orders

    def read_then_move(partition: str, *args: Any, **kwargs: Any) -> Any:
        got = read(partition, *args, **kwargs)
        if partition == f"STATUS#{Status.RECEIVED.value}":
            current = svc.repo.get_work_order(moving.id)
            svc.repo.save(current.model_copy(update={"status": Status.TRIAGED}), current.version)
        return got

    svc.repo.page_work_orders = read_then_move  # type: ignore[method-assign]
    listed = ops_lists.page(svc, parse_filters(), 50)["work_orders"]
    assert [w["id"] for w in listed].count("wo-moving") == 1
    assert next(w for w in listed if w["id"] == "wo-moving")["status"] == "triaged"
    assert "wo-still" in [w["id"] for w in listed]
