"""One contract, two repositories: the DynamoDB adapter on moto (a table shaped like template.yaml's) and
the in-memory twin services tests run on (tests/fakes). A difference is a bug in the twin, or news about
the real one. Organised by kind of record, like both implementations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.adapters.aws import error_code
from shared.adapters.repository import Repository
from shared.domain.compliance import VendorInsurance
from shared.domain.directory import Contact, Property, Unit, Vendor
from shared.domain.enums import Trade
from shared.domain.errors import ConcurrentUpdate, IdempotencyConflict, NotFound
from shared.domain.invoices import Invoice, InvoiceLine, LineKind
from shared.domain.workorder import Source, Status, TimelineEntry, WorkOrder
from tests.contract.conftest import new_dynamodb_table
from tests.fakes import InMemoryRepository

T0 = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "memory"])
def repo(request: pytest.FixtureRequest) -> Repository | InMemoryRepository:
    if request.param == "memory":
        return InMemoryRepository()
    request.getfixturevalue("aws")
    client, name = new_dynamodb_table()
    return Repository(name, client=client)


def work_order(wo_id: str, minutes: int = 0, **fields: Any) -> WorkOrder:
    at = T0 + timedelta(minutes=minutes)
    values: dict[str, Any] = {"id": wo_id, "property_id": "prop-1", "unit_id": "unit-1",
                              "tenant": Contact(name="Ana", phone="+15550100010"), "description": "Faucet drips",
                              "created_at": at, "updated_at": at}
    return WorkOrder(**{**values, **fields})


def entry(minutes: int, event: str = "received") -> TimelineEntry:
    return TimelineEntry(at=T0 + timedelta(minutes=minutes), event=event, detail=f"{event} detail")


def invoice(inv_id: str, minutes: int = 0, wo_id: str = "wo-1", **fields: Any) -> Invoice:
    values: dict[str, Any] = {
        "id": inv_id, "work_order_id": wo_id, "vendor_id": "ven-1", "invoice_number": "A-100",
        "invoice_date": T0.date(), "currency": "USD", "total": Decimal("120.50"), "source": "link",
        "lines": [InvoiceLine(kind=LineKind.LABOUR, description="Labour", quantity=Decimal("1.5"),
                              unit_price=Decimal("80.33"))],
        "work_order_status_at_submission": "verified", "submitted_at": T0 + timedelta(minutes=minutes)}
    return Invoice(**{**values, **fields})


def vendor(vendor_id: str, trades: list[Trade], areas: list[str], email: str | None = None) -> Vendor:
    return Vendor(id=vendor_id, name=vendor_id.title(), trades=trades, service_areas=areas, email=email)


# ================================================================ work orders and their timeline
class TestWorkOrders:
    def test_create_then_get(self, repo: Repository) -> None:
        wo = work_order("wo-1", candidates=["ven-a"], emergency_probability=0.7)
        created = repo.create_work_order(wo, entry(0))
        assert created == wo.model_copy(update={"timeline": [entry(0)]})
        assert repo.get_work_order("wo-1") == wo
        assert repo.get_work_order("wo-1", with_timeline=True).timeline == [entry(0)]

    def test_unknown_work_order_is_not_found(self, repo: Repository) -> None:
        for with_timeline in (False, True):
            with pytest.raises(NotFound) as caught:
                repo.get_work_order("wo-none", with_timeline=with_timeline)
            assert caught.value.details == {"id": "wo-none"}

    def test_a_replay_with_the_same_key_and_request_returns_the_first(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0), ("unit-1#k1", "fp-1"))
        replay = repo.create_work_order(work_order("wo-2"), entry(1), ("unit-1#k1", "fp-1"))
        assert replay == work_order("wo-1")  # as stored, without its timeline
        with pytest.raises(NotFound):
            repo.get_work_order("wo-2")

    def test_the_same_key_for_another_request_is_a_conflict(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0), ("unit-1#k1", "fp-1"))
        with pytest.raises(IdempotencyConflict):
            repo.create_work_order(work_order("wo-2"), entry(1), ("unit-1#k1", "fp-2"))
        repo.create_work_order(work_order("wo-3"), entry(1), ("unit-1#k2", "fp-2"))  # another key is new
        assert repo.get_work_order("wo-3").id == "wo-3"

    def test_an_existing_id_is_never_overwritten(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0))
        for idem in (None, ("unit-1#k9", "fp")):
            with pytest.raises(Exception) as caught:
                repo.create_work_order(work_order("wo-1", description="Other"), entry(1), idem)
            assert error_code(caught.value) == "TransactionCanceledException"
        assert repo.get_work_order("wo-1").description == "Faucet drips"

    def test_save_is_versioned(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0))
        loaded = repo.get_work_order("wo-1")
        saved = repo.save(loaded.model_copy(update={"status": Status.TRIAGED}), loaded.version, [entry(1, "triaged")])
        assert saved.version == loaded.version + 1
        assert repo.get_work_order("wo-1") == saved
        with pytest.raises(ConcurrentUpdate):  # a writer that read the old version loses
            repo.save(loaded.model_copy(update={"status": Status.CANCELLED}), loaded.version, [entry(2, "x")])
        current = repo.get_work_order("wo-1", with_timeline=True)
        assert current.status == Status.TRIAGED
        assert [e.event for e in current.timeline] == ["received", "triaged"]  # the loser wrote nothing

    def test_save_of_an_unknown_work_order_is_a_concurrent_update(self, repo: Repository) -> None:
        with pytest.raises(ConcurrentUpdate):
            repo.save(work_order("wo-ghost"), 0)

    def test_timeline_is_in_time_order_whatever_the_write_order(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0))
        repo.add_timeline("wo-1", entry(5, "late"))
        repo.add_timeline("wo-1", entry(2, "early"))
        wo = repo.get_work_order("wo-1")
        repo.save(wo, wo.version, [entry(3, "saved")])
        assert [e.event for e in repo.get_work_order("wo-1", with_timeline=True).timeline] == [
            "received", "early", "saved", "late"]

    def test_returned_models_do_not_alias_the_store(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1", candidates=["ven-a"]), entry(0))
        loaded = repo.get_work_order("wo-1", with_timeline=True)
        loaded.candidates.append("ven-b")
        loaded.timeline.append(entry(9))
        loaded.tenant.name = "Changed"
        again = repo.get_work_order("wo-1", with_timeline=True)
        assert (again.candidates, len(again.timeline), again.tenant.name) == (["ven-a"], 1, "Ana")

    def test_timeline_details_are_rewritten_and_events_and_times_stay(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0))
        repo.add_timeline("wo-1", TimelineEntry(at=T0 + timedelta(minutes=1), event="reply", detail="call me",
                                                actor="tenant"))
        repo.add_timeline("wo-1", TimelineEntry(at=T0 + timedelta(minutes=2), event="note", detail="ok"))

        def rewrite(actor: str, detail: str) -> str:
            return "[x]" if actor == "tenant" else detail

        assert repo.rewrite_timeline("wo-1", rewrite) == 1
        assert repo.rewrite_timeline("wo-1", rewrite) == 0  # nothing left to change
        timeline = repo.get_work_order("wo-1", with_timeline=True).timeline
        assert [(e.event, e.detail, e.actor) for e in timeline] == [
            ("received", "received detail", "system"), ("reply", "[x]", "tenant"), ("note", "ok", "system")]
        assert [e.at for e in timeline] == [T0 + timedelta(minutes=m) for m in range(3)]

    def test_a_work_order_is_indexed_under_its_tenants_phone_and_email_hashes(self, repo: Repository) -> None:
        from shared.domain.privacy import person_hash

        ana = Contact(name="Ana", phone="+15550100010", email="Ana@Example.com")
        repo.create_work_order(work_order("wo-1", tenant=ana), entry(0))
        repo.create_work_order(work_order("wo-2", 1, tenant=ana), entry(1))
        by_phone, by_email = person_hash("+15550100010"), person_hash("ana@example.com")
        assert sorted(repo.person_work_orders(by_phone)) == ["wo-1", "wo-2"]
        assert sorted(repo.person_work_orders(by_email)) == ["wo-1", "wo-2"]
        assert repo.forget_person(by_phone) == 2
        assert repo.person_work_orders(by_phone) == [] and len(repo.person_work_orders(by_email)) == 2
        assert repo.person_work_orders(person_hash("+15550000000")) == []

    def test_list_by_status_property_and_source_newest_first(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1", 1), entry(1))
        repo.create_work_order(work_order("wo-2", 2, property_id="prop-2", source=Source.SMS), entry(2))
        repo.create_work_order(work_order("wo-3", 3), entry(3))
        wo3 = repo.get_work_order("wo-3")
        repo.save(wo3.model_copy(update={"status": Status.TRIAGED}), wo3.version)

        assert [w.id for w in repo.list_work_orders()] == ["wo-3", "wo-2", "wo-1"]
        assert [w.id for w in repo.list_work_orders(status="received")] == ["wo-2", "wo-1"]
        assert [w.id for w in repo.list_work_orders(status="triaged")] == ["wo-3"]
        assert [w.id for w in repo.list_work_orders(property_id="prop-1")] == ["wo-3", "wo-1"]
        assert [w.id for w in repo.list_work_orders(property_id="prop-1", status="received")] == ["wo-1"]
        assert [w.id for w in repo.list_work_orders(source="sms")] == ["wo-2"]
        assert [w.id for w in repo.list_work_orders(limit=2)] == ["wo-3", "wo-2"]
        assert repo.list_work_orders()[0].version == 1  # the saved state, not the created one

    def test_recent_work_orders_of_a_property(self, repo: Repository) -> None:
        for n in (1, 2, 3):
            repo.create_work_order(work_order(f"wo-{n}", n * 10), entry(n * 10))
        repo.create_work_order(work_order("wo-other", 30, property_id="prop-2"), entry(30))
        assert [w.id for w in repo.recent_work_orders("prop-1", T0 + timedelta(minutes=15))] == ["wo-3", "wo-2"]
        assert repo.recent_work_orders("prop-1", T0 + timedelta(days=1)) == []

    def test_a_units_last_completed_job_per_trade(self, repo: Repository) -> None:
        assert repo.last_completed_job("unit-1", "plumbing") is None  # nothing recorded yet
        repo.seed_completed_job("unit-1", "plumbing", None, None)  # a look found nothing
        assert repo.last_completed_job("unit-1", "plumbing") == (None, None)
        repo.note_completed_job("unit-1", "plumbing", "wo-2", T0 + timedelta(days=2))
        repo.note_completed_job("unit-1", "plumbing", "wo-1", T0 + timedelta(days=1))  # earlier: the later stays
        assert repo.last_completed_job("unit-1", "plumbing") == ("wo-2", T0 + timedelta(days=2))
        repo.seed_completed_job("unit-1", "plumbing", "wo-0", T0)  # a seed never replaces a record
        assert repo.last_completed_job("unit-1", "plumbing").work_order_id == "wo-2"
        repo.note_completed_job("unit-1", "plumbing", "wo-3", T0 + timedelta(days=3))
        assert repo.last_completed_job("unit-1", "plumbing").work_order_id == "wo-3"
        assert repo.last_completed_job("unit-1", "hvac") is None
        assert repo.last_completed_job("unit-2", "plumbing") is None
        repo.seed_completed_job("unit-2", "hvac", "wo-9", T0)
        assert repo.last_completed_job("unit-2", "hvac") == ("wo-9", T0)

    def test_every_work_order_in_a_status_oldest_first_across_pages(self, repo: Repository) -> None:
        for n in range(1, 15):  # ~90 KB each: over the 1 MB a Query page holds (few items: moto copies each one)
            repo.create_work_order(work_order(f"wo-{n:03}", n, description="x" * 90_000), entry(n))
        moved = repo.get_work_order("wo-002")
        repo.save(moved.model_copy(update={"status": Status.TRIAGED}), moved.version)
        received = [w.id for w in repo.work_orders_in_status("received")]
        assert received == [f"wo-{n:03}" for n in range(1, 15) if n != 2]
        assert [w.id for w in repo.work_orders_in_status("triaged")] == ["wo-002"]
        assert repo.work_orders_in_status("closed") == []

    def test_pages_of_a_partition_resume_after_the_last_item(self, repo: Repository) -> None:
        for n in range(1, 8):
            repo.create_work_order(work_order(f"wo-{n}", n, source=Source.SMS if n % 2 else Source.WEB), entry(n))
        repo.create_work_order(work_order("wo-other", 9, property_id="prop-2"), entry(9))

        seen: list[str] = []
        after = None
        while True:
            got, after = repo.page_work_orders("STATUS#received", 3, after=after)
            assert len(got) <= 3
            seen += [w.id for w in got]
            if after is None:
                break
        assert seen == ["wo-other", "wo-7", "wo-6", "wo-5", "wo-4", "wo-3", "wo-2", "wo-1"]
        first, after = repo.page_work_orders("STATUS#received", 4)  # a page that ends with the partition
        last, done = repo.page_work_orders("STATUS#received", 4, after=after)
        assert ([w.id for w in first + last], done) == (seen, None)

        first, after = repo.page_work_orders("PROPERTY#prop-1", 2, keep=lambda w: w.source == Source.SMS)
        assert ([w.id for w in first], after is not None) == (["wo-7", "wo-5"], True)
        rest, done = repo.page_work_orders("PROPERTY#prop-1", 2, after=after, keep=lambda w: w.source == Source.SMS)
        assert ([w.id for w in rest], done) == (["wo-3", "wo-1"], None)

        bound = (T0 + timedelta(minutes=4)).isoformat()  # created strictly before minute 4
        older, done = repo.page_work_orders("PROPERTY#prop-1", 10, created_before=bound)
        assert ([w.id for w in older], done) == (["wo-3", "wo-2", "wo-1"], None)
        assert repo.page_work_orders("STATUS#closed", 5) == ([], None)

    def test_a_rare_filter_gives_a_short_page_with_a_resume_key(self, repo: Repository) -> None:
        for n in range(1, 13):
            repo.create_work_order(work_order(f"wo-{n:02}", n), entry(n))
        got, after = repo.page_work_orders("STATUS#received", 2, keep=lambda w: w.id == "wo-01", max_read=4)
        assert (got, after is not None) == ([], True)  # read its bound without a match: stops, says where
        got, after = repo.page_work_orders("STATUS#received", 2, after=after, keep=lambda w: w.id == "wo-01")
        assert ([w.id for w in got], after) == (["wo-01"], None)

    def test_open_work_orders_leave_out_terminal_ones(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1", 1), entry(1))
        repo.create_work_order(work_order("wo-2", 2), entry(2))
        wo2 = repo.get_work_order("wo-2")
        repo.save(wo2.model_copy(update={"status": Status.CANCELLED}), wo2.version)
        assert [w.id for w in repo.open_work_orders()] == ["wo-1"]


# ================================================================ directory
class TestDirectory:
    def test_properties_and_units(self, repo: Repository) -> None:
        prop = Property(id="prop-1", name="Maple", address="1 Maple Ave", service_area="north",
                        preferred_vendors={"plumbing": ["ven-a"]}, on_call=Contact(name="Dana", phone="+1555"))
        unit = Unit(id="unit-1", property_id="prop-1", label="1A", tenant=Contact(name="Ana", email="a@x.test"))
        repo.put_property(prop)
        repo.put_unit(unit)
        assert repo.get_property("prop-1") == prop == repo.find_property("prop-1")
        assert repo.get_unit("unit-1") == unit == repo.find_unit("unit-1")
        with pytest.raises(NotFound) as no_prop:
            repo.get_property("prop-x")
        with pytest.raises(NotFound) as no_unit:
            repo.get_unit("unit-x")
        assert (no_prop.value.details, no_unit.value.details) == ({"id": "prop-x"}, {"unit_id": "unit-x"})
        assert repo.find_property("prop-x") is None and repo.find_unit("unit-x") is None

    def test_vendors_by_id_trade_and_area(self, repo: Repository) -> None:
        repo.put_vendor(vendor("ven-b", [Trade.PLUMBING, Trade.ROOFING], ["north", "south"]))
        repo.put_vendor(vendor("ven-a", [Trade.PLUMBING], ["north"]))
        assert repo.get_vendor("ven-a") == vendor("ven-a", [Trade.PLUMBING], ["north"]) == repo.find_vendor("ven-a")
        assert sorted(v.id for v in repo.vendors_for("plumbing", "north")) == ["ven-a", "ven-b"]
        assert [v.id for v in repo.vendors_for("roofing", "south")] == ["ven-b"]
        assert repo.vendors_for("hvac", "north") == []
        assert sorted(v.id for v in repo.get_vendors(["ven-a", "ven-x", "ven-b"])) == ["ven-a", "ven-b"]
        with pytest.raises(NotFound) as caught:
            repo.get_vendor("ven-x")
        assert caught.value.details == {"id": "ven-x"}
        assert repo.find_vendor("ven-x") is None

    def test_a_vendor_is_no_longer_found_by_the_areas_trades_and_address_it_dropped(self, repo: Repository) -> None:
        repo.put_vendor(vendor("ven-a", [Trade.PLUMBING, Trade.HVAC], ["north"], email="a@pipes.test"))
        repo.put_vendor(vendor("ven-a", [Trade.PLUMBING], ["south"], email="desk@pipes.test"))
        assert repo.vendors_for("plumbing", "north") == []
        assert repo.vendors_for("hvac", "north") == []
        assert [v.service_areas for v in repo.vendors_for("plumbing", "south")] == [["south"]]
        assert repo.vendors_for_email("a@pipes.test") == []
        assert repo.vendors_for_email("desk@pipes.test") == ["ven-a"]

    def test_vendors_by_email_ignore_case_and_spaces(self, repo: Repository) -> None:
        repo.put_vendor(vendor("ven-a", [Trade.HVAC], ["north"], email="Office@Breeze.test"))
        repo.put_vendor(vendor("ven-b", [Trade.HVAC], ["north"], email="office@breeze.test"))
        assert repo.vendors_for_email(" OFFICE@breeze.test ") == ["ven-a", "ven-b"]
        assert repo.vendors_for_email("nobody@x.test") == []

    def test_vendors_by_insurance_expiry_date_range_across_months(self, repo: Repository) -> None:
        def insured(vendor_id: str, until: date | None, active: bool = True) -> Vendor:
            return vendor(vendor_id, [Trade.HVAC], ["north"]).model_copy(update={
                "active": active, "insurance": VendorInsurance(provider="P", policy_number="1", expires_on=until)})

        for vid, until in (("ven-nov", date(2026, 11, 30)), ("ven-dec", date(2026, 12, 1)),
                           ("ven-dec31", date(2026, 12, 31)), ("ven-jan", date(2027, 1, 2)),
                           ("ven-later", date(2027, 1, 3)), ("ven-open", None)):
            repo.put_vendor(insured(vid, until))
        repo.put_vendor(vendor("ven-none", [Trade.HVAC], ["north"]))
        assert repo.vendors_insured_until(date(2026, 12, 1), date(2027, 1, 2)) == ["ven-dec", "ven-dec31", "ven-jan"]
        assert repo.vendors_insured_until(date(2026, 11, 30), date(2026, 11, 30)) == ["ven-nov"]
        # A renewal moves the vendor to its new date; a deactivated vendor leaves the index.
        repo.put_vendor(insured("ven-dec", date(2027, 12, 1)))
        repo.put_vendor(insured("ven-jan", date(2027, 1, 2), active=False))
        assert repo.vendors_insured_until(date(2026, 12, 1), date(2027, 1, 2)) == ["ven-dec31"]
        assert repo.vendors_insured_until(date(2027, 12, 1), date(2027, 12, 1)) == ["ven-dec"]
        repo.put_vendor(insured("ven-dec31", None))  # no expiration any more
        assert repo.vendors_insured_until(date(2026, 12, 1), date(2027, 1, 2)) == []

    def test_an_insurance_warning_is_claimed_once_per_vendor_and_expiry_date(self, repo: Repository) -> None:
        day = date(2026, 12, 31)
        assert repo.claim_insurance_warning("ven-a", day, T0.isoformat()) is True
        assert repo.claim_insurance_warning("ven-a", day, T0.isoformat()) is False
        assert repo.claim_insurance_warning("ven-a", date(2027, 12, 31), T0.isoformat()) is True  # renewed
        assert repo.claim_insurance_warning("ven-b", day, T0.isoformat()) is True
        repo.release_insurance_warning("ven-a", day)
        assert repo.claim_insurance_warning("ven-a", day, T0.isoformat()) is True

    def test_vendor_stats_count_up(self, repo: Repository) -> None:
        repo.put_vendor(vendor("ven-a", [Trade.HVAC], ["north"]))
        for stat in ("offers", "offers", "accepted"):
            repo.bump_vendor_stat("ven-a", stat)
        stats = repo.get_vendor("ven-a").stats
        assert (stats.offers, stats.accepted, stats.declined) == (2, 1, 0)

    def test_stats_of_an_unknown_vendor_fail(self, repo: Repository) -> None:
        with pytest.raises(Exception) as caught:
            repo.bump_vendor_stat("ven-x", "offers")
        assert error_code(caught.value) == "ConditionalCheckFailedException"
        assert repo.find_vendor("ven-x") is None


# ================================================================ invoices
def test_a_propertys_units_are_listed_and_follow_a_move(repo: Repository) -> None:
    for unit_id, prop in (("unit-b", "prop-1"), ("unit-a", "prop-1"), ("unit-c", "prop-2")):
        repo.put_unit(Unit(id=unit_id, property_id=prop, label=unit_id))
    repo.put_unit(Unit(id="unit-a", property_id="prop-1", label="again"))  # re-put: still listed once
    assert repo.unit_ids("prop-1") == ["unit-a", "unit-b"]
    assert repo.unit_ids("prop-2") == ["unit-c"]
    repo.put_unit(Unit(id="unit-b", property_id="prop-2", label="moved"))
    assert (repo.unit_ids("prop-1"), repo.unit_ids("prop-2")) == (["unit-a"], ["unit-b", "unit-c"])
    assert repo.unit_ids("prop-none") == []
    repo.put_unit(Unit(id="unit-d", property_id="prop-3", label="drill", drill=True))
    assert repo.unit_ids("prop-3") == [] and repo.get_unit("unit-d").drill  # a drill unit never counts


class TestInvoices:
    def test_create_update_and_read(self, repo: Repository) -> None:
        created = repo.save_invoice(invoice("inv-1"), None)
        assert created.version == 1
        assert repo.get_invoice("wo-1", "inv-1") == created
        updated = repo.save_invoice(created.model_copy(update={"rejection_reason": "x"}), created.version)
        assert updated.version == 2
        assert repo.get_invoice("wo-1", "inv-1").rejection_reason == "x"

    def test_versions_are_checked(self, repo: Repository) -> None:
        created = repo.save_invoice(invoice("inv-1"), None)
        with pytest.raises(ConcurrentUpdate):
            repo.save_invoice(invoice("inv-1"), None)  # created twice
        repo.save_invoice(created, created.version)
        with pytest.raises(ConcurrentUpdate):
            repo.save_invoice(created, created.version)  # stale
        with pytest.raises(ConcurrentUpdate):
            repo.save_invoice(invoice("inv-ghost"), 1)  # never created

    def test_unknown_invoice_is_not_found(self, repo: Repository) -> None:
        with pytest.raises(NotFound):
            repo.get_invoice("wo-1", "inv-x")

    def test_invoices_of_a_work_order_in_submission_order(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0))
        repo.save_invoice(invoice("inv-b", 5), None)
        repo.save_invoice(invoice("inv-a", 9), None)
        repo.save_invoice(invoice("inv-c", 1), None)
        repo.save_invoice(invoice("inv-other", 2, wo_id="wo-2"), None)
        assert [i.id for i in repo.invoices_for("wo-1")] == ["inv-c", "inv-b", "inv-a"]
        assert repo.invoices_for("wo-3") == []
        assert len(repo.get_work_order("wo-1", with_timeline=True).timeline) == 1  # invoices are no timeline

    def test_an_invoice_number_is_claimed_once_per_vendor(self, repo: Repository) -> None:
        assert repo.claim_invoice_number("ven-1", "A-100", "inv-1", "wo-1") is None
        assert repo.claim_invoice_number("ven-1", " a-100 ", "inv-2", "wo-2") == {
            "PK": "VINV#ven-1", "SK": "a-100", "invoice_id": "inv-1", "work_order_id": "wo-1"}
        assert repo.claim_invoice_number("ven-2", "A-100", "inv-3", "wo-3") is None


# ================================================================ links, done markers, counters
class TestLinksAndMarkers:
    def test_links_are_stored_once_by_digest(self, repo: Repository) -> None:
        repo.put_link("d1", {"work_order_id": "wo-1", "party": "vendor", "actions": ["accept"]}, 1_900_000_000)
        assert repo.get_link("d1") == {"PK": "LINK#d1", "SK": "LINK", "type": "link", "work_order_id": "wo-1",
                                       "party": "vendor", "actions": ["accept"], "expires_at": 1_900_000_000}
        with pytest.raises(Exception) as caught:
            repo.put_link("d1", {"work_order_id": "wo-2"}, 1)
        assert error_code(caught.value) == "ConditionalCheckFailedException"
        assert repo.get_link("d1")["work_order_id"] == "wo-1"
        assert repo.get_link("d-none") is None

    def test_close_link_sets_a_mark_once(self, repo: Repository) -> None:
        repo.put_link("d1", {"work_order_id": "wo-1"}, 1_900_000_000)
        assert repo.close_link("d1", "answered", "accept") is True
        assert repo.close_link("d1", "answered", "decline") is False
        assert repo.get_link("d1")["answered"] == "accept"
        assert repo.close_link("d1", "revoked", "ops") is True
        assert repo.close_link("d1", "renewed", "x") is False  # revoked: no more marks
        assert repo.close_link("d-none", "answered", "x") is False
        assert repo.get_link("d-none") is None  # a failed close creates nothing

    def test_counters_count_per_name(self, repo: Repository) -> None:
        assert [repo.hit("RL#ip#1", 60) for _ in range(3)] == [1, 2, 3]
        assert repo.hit("RL#ip#2", 60) == 1

    def test_done_markers_record_a_timeline_entry(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1"), entry(0))
        assert repo.done("sms:wo-1:offer", "wo-1") is False
        assert repo.mark_done("sms:wo-1:offer", "wo-1", entry(1, "notified")) is True
        assert repo.done("sms:wo-1:offer", "wo-1") is True
        assert repo.done("sms:wo-1:other", "wo-1") is False
        assert repo.mark_done("sms:wo-1:offer", "wo-1", entry(2, "notified")) is False  # recorded once
        assert [e.event for e in repo.get_work_order("wo-1", with_timeline=True).timeline] == ["received", "notified"]

    def test_the_done_markers_under_a_key_prefix_in_one_read(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1", 0), entry(0))
        repo.create_work_order(work_order("wo-2", 0), entry(0))
        assert repo.done_under("msg:ev-1:tenant", "wo-1") == set()
        for key in ("msg:ev-1:tenant", "msg:ev-1:tenant:sms:held", "msg:ev-1:vendor:email", "msg:ev-2:tenant"):
            repo.mark_done(key, "wo-1", entry(1, "notified"))
        repo.mark_done("msg:ev-1:tenant:email", "wo-2", entry(1, "notified"))  # another work order's
        assert repo.done_under("msg:ev-1:tenant", "wo-1") == {"msg:ev-1:tenant", "msg:ev-1:tenant:sms:held"}
        assert repo.done_under("msg:ev-1:", "wo-1") == {"msg:ev-1:tenant", "msg:ev-1:tenant:sms:held",
                                                        "msg:ev-1:vendor:email"}


# ================================================================ PMS links and state
class TestPmsLinks:
    def test_links_between_pms_and_opslayer_ids(self, repo: Repository) -> None:
        assert repo.pms_link("unit", "101") is None
        repo.link_pms("unit", "101", "unit-1")
        repo.link_pms("tenant", "101", "unit-9")  # kinds are separate
        assert (repo.pms_link("unit", "101"), repo.pms_link("tenant", "101")) == ("unit-1", "unit-9")
        repo.link_pms("unit", "101", "unit-2")
        assert repo.pms_link("unit", "101") == "unit-2"

    def test_events_apply_in_order_and_stale_ones_are_refused(self, repo: Repository) -> None:
        assert repo.advance_pms_event("task", "7", "2026-06-10T10:00:00Z") is True
        assert repo.advance_pms_event("task", "7", "2026-06-10T11:00:00Z") is True
        assert repo.advance_pms_event("task", "7", "2026-06-10T10:30:00Z") is False
        assert repo.advance_pms_event("task", "7", "2026-06-10T11:00:00Z") is True  # the same event again
        assert repo.advance_pms_event("task", "8", "2026-06-10T09:00:00Z") is True
        assert repo.pms_link("task", "7") is None  # an event order is no link
        repo.link_pms("task", "7", "wo-1")
        assert repo.advance_pms_event("task", "7", "2026-06-10T10:45:00Z") is False  # linking kept the order
        assert repo.pms_link("task", "7") == "wo-1"

    def test_pms_state_never_moves_back(self, repo: Repository) -> None:
        assert repo.pms_state("wo-1") == {}
        repo.put_pms_state("wo-1", "task-1", None, 3)
        assert repo.pms_state("wo-1") == {"PK": "WO#wo-1", "SK": "PMS", "pms_task_id": "task-1", "synced_version": 3}
        repo.put_pms_state("wo-1", "task-1", "order-1", 2)  # a slower writer
        assert repo.pms_state("wo-1")["synced_version"] == 3
        repo.put_pms_state("wo-1", "task-1", "order-1", 3)
        assert repo.pms_state("wo-1")["pms_work_order_id"] == "order-1"

    def test_the_work_order_shows_its_pms_ids(self, repo: Repository) -> None:
        repo.create_work_order(work_order("wo-1", pms_task_id="task-0"), entry(0))
        repo.put_pms_state("wo-1", "task-1", "order-1", 1)
        full = repo.get_work_order("wo-1", with_timeline=True)
        assert (full.pms_task_id, full.pms_work_order_id) == ("task-1", "order-1")
        assert repo.get_work_order("wo-1").pms_task_id == "task-0"  # without the timeline: the order alone


# ================================================================ channels, configuration, records
class TestChannelsAndConfig:
    def test_tenant_phones_point_at_units(self, repo: Repository) -> None:
        repo.index_tenant_phone("+15550100010", "unit-2")
        repo.index_tenant_phone("+15550100010", "unit-1")
        repo.index_tenant_phone("+15550100010", "unit-1")
        assert repo.units_for_phone("+15550100010") == ["unit-1", "unit-2"]
        assert repo.units_for_phone("+15550100099") == []

    def test_tenant_emails_point_at_units_ignoring_case(self, repo: Repository) -> None:
        repo.index_tenant_email("Ana@Tenant.test ", "unit-1")
        assert repo.units_for_email("ana@tenant.TEST") == ["unit-1"]
        assert repo.units_for_email("ben@tenant.test") == []

    def test_sms_opt_out_and_back_in(self, repo: Repository) -> None:
        assert repo.sms_opted_out("+1555") is False
        repo.set_sms_opt_out("+1555", True, "2026-06-10T10:00:00Z")
        assert repo.sms_opted_out("+1555") is True
        repo.set_sms_opt_out("+1555", False, "2026-06-10T11:00:00Z")
        assert repo.sms_opted_out("+1555") is False
        repo.set_sms_opt_out("+1666", False, "2026-06-10T11:00:00Z")  # never opted out: nothing to undo
        assert repo.sms_opted_out("+1666") is False

    def test_inbound_messages_are_claimed_once(self, repo: Repository) -> None:
        assert repo.claim_inbound_sms("twilio", "SM1") is True
        assert repo.claim_inbound_sms("twilio", "SM1") is False
        assert repo.claim_inbound_sms("sns", "SM1") is True
        assert repo.claim_inbound_email("m1") is True
        assert repo.claim_inbound_email("m1") is False
        repo.release_inbound_email("m1")  # processing failed: the next delivery may try again
        assert repo.claim_inbound_email("m1") is True
        repo.release_inbound_email("m-never")

    def test_configuration(self, repo: Repository) -> None:
        assert repo.get_config("quiet_hours") is None and repo.ops_contact() is None
        repo.put_config("quiet_hours", {"enabled": False, "start": "22:00"})
        repo.put_config("ops_contact", {"name": "Ops", "email": "ops@x.test"})
        assert repo.get_config("quiet_hours") == {"enabled": False, "start": "22:00"}
        assert repo.ops_contact() == Contact(name="Ops", email="ops@x.test")

    def test_records_read_back_as_dynamodb_gives_them(self, repo: Repository) -> None:
        repo.put_record("SENSOR#s1", "META", {"unit_id": "unit-1", "gone": None, "ratio": 0.1, "whole": 2.0,
                                              "nested": {"x": None, "n": 1.0, "items": [1.5, "a"]}})
        assert repo.get_record("SENSOR#s1", "META") == {
            "PK": "SENSOR#s1", "SK": "META", "unit_id": "unit-1", "ratio": 0.1, "whole": 2,
            "nested": {"x": None, "n": 1, "items": [1.5, "a"]}}
        assert repo.get_record("SENSOR#s2", "META") is None
        repo.put_record("SENSOR#s1", "META", {"unit_id": "unit-2"})  # a put replaces the whole record
        assert repo.get_record("SENSOR#s1", "META") == {"PK": "SENSOR#s1", "SK": "META", "unit_id": "unit-2"}

    def test_add_to_set_appends_once(self, repo: Repository) -> None:
        repo.add_to_set("INCIDENT#i1", "META", "members", "wo-2")
        repo.add_to_set("INCIDENT#i1", "META", "members", "wo-1")
        repo.add_to_set("INCIDENT#i1", "META", "members", "wo-2")
        assert repo.get_record("INCIDENT#i1", "META") == {"PK": "INCIDENT#i1", "SK": "META",
                                                          "members": ["wo-2", "wo-1"]}

    def test_listed_collections(self, repo: Repository) -> None:
        repo.put_listed("ASSETS", "b-boiler", {"kind": "boiler", "interval_days": 365})
        repo.put_listed("ASSETS", "a-filter", {"kind": "filter", "interval_days": 90})
        repo.put_listed("GLACCOUNTS", "5000", {"name": "Repairs"})
        assert repo.listed("ASSETS") == [
            {"PK": "ASSETS", "SK": "a-filter", "kind": "filter", "interval_days": 90},
            {"PK": "ASSETS", "SK": "b-boiler", "kind": "boiler", "interval_days": 365}]
        repo.delete_listed("ASSETS", "a-filter")
        repo.delete_listed("ASSETS", "never")
        assert [i["SK"] for i in repo.listed("ASSETS")] == ["b-boiler"]
        assert repo.listed("EMPTY") == []

    def test_the_drill_sink_reads_messages_after_a_time_or_an_id_oldest_first(self, repo: Repository) -> None:
        t1, t2 = "2026-06-10T14:00:00+00:00", "2026-06-10T14:00:05+00:00"
        repo.put_drill_message(t2, "b", {"channel": "email", "to": "x@drill.invalid", "subject": "S",
                                         "body": "second"}, ttl_seconds=3600)
        repo.put_drill_message(t1, "a", {"channel": "sms", "to": "+15550990011", "subject": "", "body": "first"},
                               ttl_seconds=3600)
        repo.put_drill_message(t1, "z", {"channel": "sms", "to": "+15550990011", "subject": "", "body": "expired"},
                               ttl_seconds=-1)  # past its TTL, not removed yet: never read
        found = repo.drill_messages("2026-06-10T13:59:59+00:00")
        assert found == [
            {"id": f"{t1}#a", "channel": "sms", "to": "+15550990011", "subject": "", "body": "first", "sent_at": t1},
            {"id": f"{t2}#b", "channel": "email", "to": "x@drill.invalid", "subject": "S", "body": "second",
             "sent_at": t2}]
        assert [m["body"] for m in repo.drill_messages(t1)] == ["first", "second"]  # at the time: all of it
        assert [m["body"] for m in repo.drill_messages(found[0]["id"])] == ["second"]
        assert repo.drill_messages(found[1]["id"]) == [] and repo.drill_messages("", limit=1)[0]["body"] == "first"


# ================================================================ setup records (/ops/config)
class TestSetups:
    def test_config_entries_are_set_and_removed_in_place(self, repo: Repository) -> None:
        repo.put_config_entry("owners", "prop-1", None)  # nothing to remove: fine
        repo.put_config_entry("owners", "prop-1", {"name": "One", "limit": 0.1, "phone": None})
        repo.put_config_entry("owners", "prop-2", {"name": "Two"})
        repo.put_config_entry("owners", "prop-1", {"name": "One LLC"})
        assert repo.get_config("owners") == {"prop-1": {"name": "One LLC"}, "prop-2": {"name": "Two"}}
        repo.put_config_entry("owners", "prop-2", None)
        assert repo.get_config("owners") == {"prop-1": {"name": "One LLC"}}
        repo.put_config("nte_overrides", {"prop-9": {"*": {"routine": 100}}})
        repo.put_config_entry("nte_overrides", "prop-1", {"plumbing": {"routine": 200}})
        assert repo.get_config("nte_overrides") == {"prop-9": {"*": {"routine": 100}},
                                                    "prop-1": {"plumbing": {"routine": 200}}}

    def test_every_vendor_and_property_is_listed_once(self, repo: Repository) -> None:
        repo.put_vendor(vendor("ven-b", [Trade.PLUMBING], ["north"]))
        repo.put_vendor(vendor("ven-a", [Trade.HVAC], ["south"]))
        repo.put_vendor(vendor("ven-b", [Trade.ROOFING], ["west"]).model_copy(update={"active": False}))
        for prop_id in ("prop-2", "prop-1", "prop-2"):
            repo.put_property(Property(id=prop_id, name=prop_id, address="1 Main St", service_area="north"))
        assert repo.vendor_ids() == ["ven-a", "ven-b"]
        assert repo.property_ids() == ["prop-1", "prop-2"]

    def test_in_house_technicians_are_listed_apart_and_dispatched_like_vendors(self, repo: Repository) -> None:
        repo.put_vendor(vendor("ven-a", [Trade.PLUMBING], ["north"]))
        tech = vendor("tech-sam", [Trade.PLUMBING], ["north"]).model_copy(update={"in_house": True})
        repo.put_vendor(tech)
        assert repo.vendor_ids() == ["ven-a"] and repo.technician_ids() == ["tech-sam"]
        assert {v.id for v in repo.vendors_for("plumbing", "north")} == {"ven-a", "tech-sam"}
        assert repo.get_vendor("tech-sam").in_house

    def test_versions_are_checked_and_kept_as_history(self, repo: Repository) -> None:
        assert repo.setup("vendors", "ven-a") is None and repo.setup_history("vendors", "ven-a") == []
        first = repo.save_setup("vendors", "ven-a", {"service_areas": ["north"]}, 0, "ops:alice", T0.isoformat())
        assert first["version"] == 1 and repo.setup("vendors", "ven-a") == first
        with pytest.raises(ConcurrentUpdate):
            repo.save_setup("vendors", "ven-a", {"service_areas": ["west"]}, 0, "ops:bob", T0.isoformat())
        repo.save_setup("vendors", "ven-a", {"service_areas": ["south"], "rate": 0.1}, 1, "ops:bob", T0.isoformat())
        with pytest.raises(ConcurrentUpdate):
            repo.save_setup("vendors", "ven-a", {"service_areas": ["east"]}, 1, "ops:carol", T0.isoformat())
        current = repo.setup("vendors", "ven-a")
        assert current is not None
        assert (current["version"], current["by"], current["value"]) == (
            2, "ops:bob", {"service_areas": ["south"], "rate": 0.1})
        assert [(h["version"], h["by"], h["value"]["service_areas"]) for h in repo.setup_history("vendors", "ven-a")] \
            == [(1, "ops:alice", ["north"]), (2, "ops:bob", ["south"])]

    def test_the_records_of_a_kind_in_id_order(self, repo: Repository) -> None:
        for item_id in ("s-2", "s-1"):
            repo.save_setup("sensors", item_id, {"unit_id": "unit-1"}, 0, "ops:key", T0.isoformat())
        repo.save_setup("assets", "a-1", {"kind": "boiler"}, 0, "ops:key", T0.isoformat())
        assert [r["id"] for r in repo.setups("sensors")] == ["s-1", "s-2"]
        assert repo.setups("nte") == []


class TestSurveys:
    def test_tenants_due_per_quarter_the_latest_verification_wins(self, repo: Repository) -> None:
        repo.note_nps_due("2026-Q2", "unit-1#aa", {"unit_id": "unit-1", "verified_at": T0.isoformat()})
        repo.note_nps_due("2026-Q2", "unit-1#aa", {"unit_id": "unit-1", "verified_at": "2026-06-11T00:00:00+00:00"})
        repo.note_nps_due("2026-Q2", "unit-2#bb", {"unit_id": "unit-2", "verified_at": T0.isoformat()})
        repo.note_nps_due("2026-Q3", "unit-3#cc", {"unit_id": "unit-3", "verified_at": T0.isoformat()})
        due = repo.nps_due("2026-Q2")
        assert [(d["tenant"], d["verified_at"]) for d in due] == [
            ("unit-1#aa", "2026-06-11T00:00:00+00:00"), ("unit-2#bb", T0.isoformat())]
        assert repo.nps_due("2026-Q1") == []

    def test_a_survey_is_claimed_once_and_answered_once(self, repo: Repository) -> None:
        assert repo.survey("unit-1#aa", "2026-Q2") is None
        assert repo.answer_survey("unit-1#aa", "2026-Q2", {"score": 9}) is False  # never asked
        assert repo.claim_survey("unit-1#aa", "2026-Q2", {"asked_at": T0.isoformat(), "channel": "sms"}) is True
        assert repo.claim_survey("unit-1#aa", "2026-Q2", {"asked_at": T0.isoformat(), "channel": "email"}) is False
        assert repo.answer_survey("unit-1#aa", "2026-Q2", {"score": 9, "answer_channel": "sms", "comment": None}) \
            is True
        assert repo.answer_survey("unit-1#aa", "2026-Q2", {"score": 3, "answer_channel": "email"}) is False
        survey = repo.survey("unit-1#aa", "2026-Q2")
        assert survey is not None
        assert (survey["channel"], survey["score"], survey["answer_channel"], survey["quarter"]) == (
            "sms", 9, "sms", "2026-Q2") and "comment" not in survey

    def test_the_last_question_asked(self, repo: Repository) -> None:
        assert repo.last_question_at("unit-1#aa") is None
        repo.note_question("unit-1#aa", T0.isoformat())
        assert repo.last_question_at("unit-1#aa") == T0.isoformat()

    def test_a_tenants_surveys_are_listed_and_forgotten_with_their_nps_due_entries(self, repo: Repository) -> None:
        assert repo.tenant_surveys("unit-1#aa") == [] and repo.forget_tenant("unit-1#aa") == 0
        repo.claim_survey("unit-1#aa", "2026-Q2", {"asked_at": T0.isoformat(), "channel": "sms"})
        repo.note_question("unit-1#aa", T0.isoformat())
        repo.note_nps_due("2026-Q2", "unit-1#aa", {"unit_id": "unit-1"})
        repo.note_nps_due("2026-Q2", "unit-2#bb", {"unit_id": "unit-2"})
        repo.claim_survey("unit-2#bb", "2026-Q2", {"asked_at": T0.isoformat(), "channel": "sms"})
        found = repo.tenant_surveys("unit-1#aa")
        assert [(s["record"], s.get("channel")) for s in found] == [("LAST", None), ("NPS#2026-Q2", "sms")]
        assert repo.forget_tenant("unit-1#aa") == 3  # the question, the last-asked marker, the NPS-due entry
        assert repo.tenant_surveys("unit-1#aa") == [] and repo.last_question_at("unit-1#aa") is None
        assert [d["tenant"] for d in repo.nps_due("2026-Q2")] == ["unit-2#bb"]  # someone else's stay
        assert repo.survey("unit-2#bb", "2026-Q2") is not None


class TestRollups:
    JAN = "2026-01-31|prop-1|plumbing|routine|ven-a"
    FEB = "2026-02-01|prop-1|plumbing|routine|ven-a"
    FEB_B = "2026-02-01|prop-2|hvac|urgent|-"

    def test_facts_and_their_change_are_written_together_and_versioned(self, repo: Repository) -> None:
        assert repo.rollup_facts("wo-1") == ({}, 0)
        facts = {self.JAN: {"wo": 1, "resolution.n": 1, "resolution.sum": 3600, "resolution.h4": 1}}
        repo.replace_rollup_facts("wo-1", facts, facts, 0)
        assert repo.rollup_facts("wo-1") == (facts, 1)
        with pytest.raises(ConcurrentUpdate):  # decided on a stale version: nothing is added
            repo.replace_rollup_facts("wo-1", facts, facts, 0)
        moved = {self.FEB: {"wo": 1}}
        repo.replace_rollup_facts("wo-1", moved, {self.JAN: {"wo": -1, "resolution.n": -1, "resolution.sum": -3600,
                                                             "resolution.h4": -1}, self.FEB: {"wo": 1}}, 1)
        repo.replace_rollup_facts("wo-2", {self.FEB: {"wo": 1, "csat.sum": 4}}, {self.FEB: {"wo": 1, "csat.sum": 4}}, 0)
        assert repo.rollup_facts("wo-1") == (moved, 2)
        rows = repo.rollups(date(2026, 1, 1), date(2026, 3, 31))
        assert rows == [{"key": self.FEB, "day": "2026-02-01", "property": "prop-1", "trade": "plumbing",
                         "priority": "routine", "vendor": "ven-a", "counters": {"wo": 2, "csat.sum": 4}}]

    def test_a_day_range_reads_the_months_it_spans_and_only_its_days(self, repo: Repository) -> None:
        for n, key in enumerate((self.JAN, self.FEB, self.FEB_B)):
            repo.replace_rollup_facts(f"wo-{n}", {key: {"wo": 1}}, {key: {"wo": 1}}, 0)
        assert [r["key"] for r in repo.rollups(date(2026, 1, 31), date(2026, 2, 1))] == [self.JAN, self.FEB, self.FEB_B]
        assert [r["key"] for r in repo.rollups(date(2026, 2, 1), date(2026, 2, 1))] == [self.FEB, self.FEB_B]
        assert repo.rollups(date(2025, 12, 1), date(2026, 1, 30)) == []
        assert repo.rollups(date(2026, 2, 2), date(2026, 12, 31)) == []

    def test_an_owner_report_is_claimed_once_per_property_and_month(self, repo: Repository) -> None:
        assert repo.claim_owner_report("prop-1", "2026-11", T0.isoformat()) is True
        assert repo.claim_owner_report("prop-1", "2026-11", T0.isoformat()) is False
        assert repo.claim_owner_report("prop-1", "2026-12", T0.isoformat()) is True
        assert repo.claim_owner_report("prop-2", "2026-11", T0.isoformat()) is True
        repo.release_owner_report("prop-1", "2026-11")  # its email failed: the next run sends it
        assert repo.claim_owner_report("prop-1", "2026-11", T0.isoformat()) is True

    def test_status_page_views_count_once_an_hour(self, repo: Repository) -> None:
        assert repo.status_views("wo-1") == 0
        assert repo.count_status_view("wo-1", "2026-02-01T09") is True
        assert repo.count_status_view("wo-1", "2026-02-01T09") is False  # a refresh in the same hour
        assert repo.count_status_view("wo-1", "2026-02-01T08") is False  # a late, older hour
        assert repo.count_status_view("wo-1", "2026-02-01T10") is True
        assert repo.count_status_view("wo-2", "2026-02-01T10") is True
        assert (repo.status_views("wo-1"), repo.status_views("wo-2")) == (2, 1)
        assert repo.rollup_facts("wo-1") == ({}, 0)  # apart from the work order's facts
