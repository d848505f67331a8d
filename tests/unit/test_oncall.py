"""The on-call chain's rules (shared/domain/oncall.py): which rota pages, who is paged at each level, when
each must acknowledge, when the chain is exhausted, and what counts as an ACK by SMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.domain.directory import Contact
from shared.domain.oncall import (
    OnCallLevel,
    OnCallRota,
    ack_command,
    acknowledge,
    advance,
    paged_level_of_phone,
    rota_for,
    start,
)
from shared.domain.setup import OnCallRotaSetup

T0 = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
PRIMARY = Contact(name="Dana", phone="+15550100001", email="dana@example.com")
SECONDARY = Contact(name="Sam", phone="+15550100002")
MANAGER = Contact(name="Mo", email="mo@example.com")
ROTA = OnCallRota(levels=[OnCallLevel(contact=PRIMARY), OnCallLevel(contact=SECONDARY, label="secondary",
                                                                    ack_within_minutes=10),
                          OnCallLevel(contact=MANAGER, label="manager", ack_within_minutes=15)])


def test_the_chain_pages_level_0_first_with_its_ack_by_time() -> None:
    page = start(ROTA, T0)
    assert (page.level, page.paged_at, page.due_at) == (0, T0, T0 + timedelta(minutes=5))  # the default 5 min
    assert page.running and not page.acknowledged and page.exhausted_at is None


def test_no_acknowledgement_by_the_ack_by_time_pages_the_next_level_with_its_own_time() -> None:
    page = start(ROTA, T0)
    moved, step = advance(page, 0, T0 + timedelta(minutes=5)) or (None, None)
    assert step == "next" and moved is not None
    assert (moved.level, moved.paged_at, moved.due_at) == (1, T0 + timedelta(minutes=5), T0 + timedelta(minutes=15))


def test_after_the_last_level_the_chain_is_exhausted() -> None:
    page = start(ROTA, T0)
    now = T0
    for level, step in ((0, "next"), (1, "next"), (2, "exhausted")):
        assert page.due_at is not None
        now = page.due_at
        page, got = advance(page, level, now) or (page, None)
        assert got == step
    assert page.exhausted_at == now and page.due_at is None and not page.running
    assert advance(page, 2, now + timedelta(hours=1)) is None  # exhausted once


def test_a_duplicate_or_stale_check_does_nothing() -> None:
    page = start(ROTA, T0)
    moved, _ = advance(page, 0, T0 + timedelta(minutes=5)) or (None, None)
    assert moved is not None
    assert advance(moved, 0, T0 + timedelta(minutes=30)) is None  # level 0's check again: it moved on


def test_an_acknowledgement_records_who_how_and_how_long_and_stops_the_chain() -> None:
    page = start(ROTA, T0)
    acked = acknowledge(page, 0, T0 + timedelta(minutes=2, seconds=5), "sms")
    assert acked is not None
    assert (acked.acked_by, acked.acked_level, acked.acked_via, acked.acknowledged_after_s) == (
        "Dana (primary)", 0, "sms", 125)
    assert not acked.running and acked.due_at is None
    assert advance(acked, 0, T0 + timedelta(minutes=5)) is None  # the pending check finds it acknowledged
    assert acknowledge(acked, 1, T0 + timedelta(minutes=3), "link") is None  # a second ACK changes nothing


def test_an_ack_after_the_chain_moved_on_or_was_exhausted_still_counts_and_says_who() -> None:
    page = start(ROTA, T0)
    moved, _ = advance(page, 0, T0 + timedelta(minutes=5)) or (None, None)
    assert moved is not None
    late = acknowledge(moved, 0, T0 + timedelta(minutes=7), "link")
    assert late is not None and late.acked_by == "Dana (primary)" and late.acknowledged_after_s == 420
    assert advance(late, 1, T0 + timedelta(minutes=15)) is None
    exhausted = start(OnCallRota(levels=[OnCallLevel(contact=PRIMARY)]), T0)
    exhausted, _ = advance(exhausted, 0, T0 + timedelta(minutes=5)) or (exhausted, None)
    assert exhausted.exhausted_at is not None
    after = acknowledge(exhausted, 0, T0 + timedelta(minutes=9), "sms")
    assert after is not None and after.acked_at is not None and after.exhausted_at is not None


def test_a_level_outside_the_rota_acknowledges_nothing() -> None:
    assert acknowledge(start(ROTA, T0), 3, T0, "link") is None


def test_a_rota_without_levels_is_exhausted_at_once() -> None:
    page = start(OnCallRota(), T0)
    assert page.exhausted_at == T0 and not page.running and page.paged_at is None


def test_which_rota_pages_the_propertys_then_the_portfolios_then_an_old_single_contact() -> None:
    own = OnCallRota(levels=[OnCallLevel(contact=SECONDARY)])
    assert rota_for(own, ROTA, PRIMARY, MANAGER) is own
    assert rota_for(None, ROTA, PRIMARY, MANAGER) is ROTA
    assert rota_for(OnCallRota(), ROTA, None, None) is ROTA  # an empty rota is no rota
    single = rota_for(None, None, PRIMARY, MANAGER)
    assert [(lv.contact, lv.label, lv.ack_within_minutes) for lv in single.levels] == [(PRIMARY, "primary", 5)]
    assert rota_for(None, None, None, MANAGER).levels[0].contact == MANAGER
    assert rota_for(None, None, None, None).levels == []


def test_the_phone_that_acknowledges_is_matched_to_the_levels_paged_so_far() -> None:
    page = start(ROTA, T0)
    assert paged_level_of_phone(page, PRIMARY.phone or "") == 0
    assert paged_level_of_phone(page, SECONDARY.phone or "") is None  # not paged yet
    moved, _ = advance(page, 0, T0 + timedelta(minutes=5)) or (page, None)
    assert paged_level_of_phone(moved, SECONDARY.phone or "") == 1
    assert paged_level_of_phone(moved, "+15559999999") is None
    assert paged_level_of_phone(start(OnCallRota(), T0), PRIMARY.phone or "") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("ACK", (True, None)), ("ack", (True, None)), (" Ack. ", (True, None)), ("ACK!", (True, None)),
    ("ack wo-0195f3a2c1d4e5f6a7b8", (True, "wo-0195f3a2c1d4e5f6a7b8")),
    ("ACK: WO-0195F3A2C1", (True, "wo-0195f3a2c1")),
    ("acknowledged", (False, None)), ("back door is broken", (False, None)), ("ACK the sink leaks", (False, None)),
    ("", (False, None)),
])
def test_what_counts_as_an_ack_by_sms(text: str, expected: tuple[bool, str | None]) -> None:
    assert ack_command(text) == expected


def test_a_rota_setup_is_validated() -> None:
    rota = OnCallRotaSetup.model_validate({"levels": [
        {"contact": {"name": "Dana", "phone": "+15550100001"}},
        {"contact": {"name": "Sam", "email": "sam@example.com"}, "label": "secondary", "ack_within_minutes": 10}]})
    assert [(lv.label, lv.ack_within_minutes) for lv in rota.levels] == [("primary", 5), ("secondary", 10)]
    for bad in ({"levels": []}, {"levels": [{"contact": {"name": "Nobody"}}]},
                {"levels": [{"contact": {"name": "Dana", "phone": "+15550100001"}, "ack_within_minutes": 0}]},
                {"levels": [{"contact": {"name": "Dana", "phone": "555"}}]},
                {"levels": [{"contact": {"name": "Dana", "phone": "+15550100001"}, "pager": "yes"}]}):
        with pytest.raises(ValidationError):
            OnCallRotaSetup.model_validate(bad)
