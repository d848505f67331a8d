"""The ports use cases reach through `Services` (shared/services/container.py), as Protocols: the AWS adapters
in shared/adapters implement them, and so do the in-memory twins in tests/fakes (a contract test per port
keeps both honest). The PMS port is shared/pms/port.py. Types only: nothing here runs at import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from shared.domain.directory import Contact, Property, Unit, Vendor
    from shared.domain.invoices import Invoice
    from shared.domain.steering import MoveTask, QueueInfo
    from shared.domain.workorder import TimelineEntry, WorkOrder


class CompletedJob(NamedTuple):
    """A unit's latest completed job of a trade; both None: none was found when the record was first made."""

    work_order_id: str | None
    completed_at: datetime | None


class WorkOrderStore(Protocol):
    """Work orders (every write conditional on its version), their timeline, the status and property indexes."""

    def create_work_order(self, wo: WorkOrder, entry: TimelineEntry,
                          idempotency: tuple[str, str] | None = None, ttl_seconds: int = 86400) -> WorkOrder:
        """Persist a new work order. With (scoped key, request fingerprint) a replay returns the first one."""

    def get_work_order(self, wo_id: str, with_timeline: bool = False) -> WorkOrder: ...

    def save(self, wo: WorkOrder, expected_version: int, entries: list[TimelineEntry] = ()) -> WorkOrder:
        """Write the new state of a work order if nobody changed it since `expected_version`."""

    def add_timeline(self, wo_id: str, entry: TimelineEntry) -> None:
        """A timeline entry that does not change the work order (an SMS reply, a deferral)."""

    def list_work_orders(self, status: str | None = None, property_id: str | None = None,
                         source: str | None = None, limit: int = 100) -> list[WorkOrder]: ...

    def recent_work_orders(self, property_id: str, since: datetime) -> list[WorkOrder]:
        """Work orders of a property created since a moment (GSI2, newest first)."""

    def page_work_orders(self, partition: str, limit: int, after: str | None = None,
                         created_before: str | None = None, keep: Callable[[WorkOrder], bool] | None = None,
                         max_read: int = 1000) -> tuple[list[WorkOrder], str | None]:
        """One page of a status (``STATUS#<s>``) or property (``PROPERTY#<id>``) index partition, newest first:
        up to `limit` that `keep` accepts, created before `created_before`, after the index sort key `after`.
        Returns them and the sort key to resume after (None: done). Reads about `max_read` items at most."""

    def rewrite_timeline(self, wo_id: str, rewrite: Callable[[str, str], str]) -> int:
        """Replace each timeline entry's detail with `rewrite(actor, detail)` where that changes it; how many."""

    def person_work_orders(self, person: str) -> list[str]:
        """Ids of the work orders created with this person (a `person_hash`) as their tenant contact."""

    def forget_person(self, person: str) -> int:
        """Delete a person's index entries (PERSON#<hash>); returns how many."""

    def open_work_orders(self) -> list[WorkOrder]: ...

    def last_completed_job(self, unit_id: str, trade: str) -> CompletedJob | None:
        """The unit's latest completed job of a trade, as recorded (for recalls: one read, whatever the size of
        the property); None when nothing was ever recorded for that unit and trade."""

    def note_completed_job(self, unit_id: str, trade: str, wo_id: str, completed_at: datetime) -> None:
        """Record a completed job as the unit's latest of its trade, unless a later one is recorded."""

    def seed_completed_job(self, unit_id: str, trade: str, wo_id: str | None, completed_at: datetime | None) -> None:
        """Record what a one-off look found (a job, or None: no job), unless something is recorded already."""

    def work_orders_in_status(self, status: str) -> list[WorkOrder]:
        """Every work order in a status, oldest first (the status index, page by page: no limit; for sweeps)."""



class DirectoryStore(Protocol):
    """Properties, units and vendors, with the vendor indexes dispatch and inbound email read."""

    def put_property(self, prop: Property) -> None: ...

    def put_unit(self, unit: Unit) -> None:
        """The unit and its entry in its property's list of units."""

    def unit_ids(self, property_id: str) -> list[str]:
        """A property's unit ids (a Query of its list of units; never a Scan)."""

    def put_vendor(self, vendor: Vendor) -> None: ...

    def vendors_for_email(self, email: str) -> list[str]: ...

    def vendors_insured_until(self, first: date, last: date) -> list[str]: ...

    def claim_insurance_warning(self, vendor_id: str, expires_on: date, at: str) -> bool: ...

    def release_insurance_warning(self, vendor_id: str, expires_on: date) -> None: ...

    def get_property(self, prop_id: str) -> Property: ...

    def get_unit(self, unit_id: str) -> Unit: ...

    def get_vendor(self, vendor_id: str) -> Vendor: ...

    def vendors_for(self, trade: str, area: str) -> list[Vendor]: ...

    def get_vendors(self, ids: list[str]) -> list[Vendor]: ...

    def bump_vendor_stat(self, vendor_id: str, stat: str) -> None: ...

    def find_unit(self, unit_id: str) -> Unit | None: ...

    def find_property(self, prop_id: str) -> Property | None: ...

    def find_vendor(self, vendor_id: str) -> Vendor | None: ...

    def property_ids(self) -> list[str]:
        """Every property's id, in id order (the setup export)."""

    def vendor_ids(self) -> list[str]:
        """Every vendor's id, active or not, in id order (the setup export); not the in-house technicians."""

    def technician_ids(self) -> list[str]:
        """Every in-house technician's id (a vendor record with in_house), active or not, in id order."""



class InvoiceStore(Protocol):
    """Invoices (versioned like work orders) and vendors' invoice numbers (the duplicate check)."""

    def save_invoice(self, inv: Invoice, expected_version: int | None) -> Invoice:
        """Create (expected_version None) or update an invoice with a version check."""

    def get_invoice(self, wo_id: str, invoice_id: str) -> Invoice: ...

    def invoices_for(self, wo_id: str) -> list[Invoice]: ...

    def claim_invoice_number(self, vendor_id: str, number: str, invoice_id: str, wo_id: str) -> dict[str, Any] | None:
        """Record a vendor's invoice number; returns the earlier claim if the number was already used."""



class LinkStore(Protocol):
    """Link tokens (only their hashes), first-write-wins markers of done side effects, expiring counters."""

    def put_link(self, digest: str, record: dict[str, Any], ttl_at: int) -> None:
        """Store a new link's scope under its hash; a collision (never expected) fails loudly."""

    def get_link(self, digest: str) -> dict[str, Any] | None: ...

    def close_link(self, digest: str, attribute: str, value: str) -> bool:
        """Set a one-time mark on a live link (`answered`, `revoked`); False if it was already set, the
        link was revoked, or it does not exist."""

    def hit(self, counter: str, ttl_seconds: int) -> int:
        """Add one to a counter that expires; returns the new count (one UpdateItem)."""

    def done(self, key: str, wo_id: str) -> bool:
        """Whether an at-least-once side effect (a message sent, say) was already recorded on the work order."""

    def done_under(self, prefix: str, wo_id: str) -> set[str]:
        """The keys of the side effects recorded on the work order whose key starts with `prefix` (one read)."""

    def mark_done(self, key: str, wo_id: str, entry: TimelineEntry) -> bool:
        """Record a side effect as done: its timeline entry, written once per key (the entry is the marker).
        False if it was already recorded."""



class PmsLinkStore(Protocol):
    """PMS ids to Opslayer ids, the order of applied PMS events, and what was last written to the PMS."""

    def advance_pms_event(self, kind: str, pms_id: str, occurred_at: str) -> bool:
        """Record that an event of this time was applied; False if a newer one already was (stale)."""

    def link_pms(self, kind: str, pms_id: str, opslayer_id: str) -> None: ...

    def pms_link(self, kind: str, pms_id: str) -> str | None: ...

    def pms_state(self, wo_id: str) -> dict[str, Any]:
        """What was last written to the PMS for a work order: {pms_task_id, pms_work_order_id, synced_version}."""

    def put_pms_state(self, wo_id: str, task_id: str, order_id: str | None, synced_version: int) -> None:
        """Record a PMS write. A slower writer never moves the synced version back."""



class ChannelStore(Protocol):
    """Tenant phones and emails, SMS opt-outs, inbound-message claims, configuration, small listed
collections (GL accounts, assets) and plain records (sensors, incidents)."""

    def index_tenant_phone(self, phone: str, unit_id: str) -> None:
        """Point a tenant's phone at their unit (written with every tenant contact; read by inbound SMS)."""

    def units_for_phone(self, phone: str) -> list[str]: ...

    def set_sms_opt_out(self, phone: str, opted_out: bool, at: str) -> None: ...

    def sms_opted_out(self, phone: str) -> bool: ...

    def claim_inbound_sms(self, channel: str, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        """True the first time this inbound message id is seen; False for a provider's retry (duplicate)."""

    def index_tenant_email(self, address: str, unit_id: str) -> None:
        """Point a tenant's email address at their unit (read by inbound email, like phones for SMS)."""

    def units_for_email(self, address: str) -> list[str]: ...

    def claim_inbound_email(self, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        """True the first time SES delivers this message id; False for a repeated delivery."""

    def release_inbound_email(self, message_id: str) -> None: ...

    def put_config(self, name: str, value: dict[str, Any]) -> None: ...

    def get_config(self, name: str) -> dict[str, Any] | None: ...

    def put_config_entry(self, name: str, key: str, value: dict[str, Any] | None) -> None:
        """Set (None: remove) one entry of a CONFIG item keyed by id, in place (concurrent entries both land)."""

    def ops_contact(self) -> Contact | None: ...

    def get_record(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def put_record(self, pk: str, sk: str, data: dict[str, Any]) -> None: ...

    def add_to_set(self, pk: str, sk: str, attribute: str, value: str) -> None:
        """Append to a list attribute unless already there (a replayed join is a no-op)."""

    def put_listed(self, collection: str, item_id: str, data: dict[str, Any]) -> None:
        """An item of a small, bounded collection read in one Query (GL accounts, assets)."""

    def delete_listed(self, collection: str, item_id: str) -> None: ...

    def listed(self, collection: str) -> list[dict[str, Any]]: ...

    def put_drill_message(self, sent_at: str, message_id: str, data: dict[str, Any], ttl_seconds: int) -> None:
        """Keep a message the drill sink took instead of sending it (expires)."""

    def drill_messages(self, since: str, limit: int = 500) -> list[dict[str, Any]]:
        """The drill sink's messages sent after `since` (ISO 8601), oldest first."""



class SetupStore(Protocol):
    """Versioned setup records (/ops/config): the current version of each (kind, id) and its history."""

    def setup(self, kind: str, item_id: str) -> dict[str, Any] | None:
        """The current record {kind, id, version, value, by, at}, or None if never written."""

    def setups(self, kind: str) -> list[dict[str, Any]]:
        """Every current record of a kind, in id order."""

    def save_setup(self, kind: str, item_id: str, value: dict[str, Any], expected_version: int,
                   by: str, at: str) -> dict[str, Any]:
        """Write the next version if the current one is still `expected_version` (0: none yet), with its
        history entry; ConcurrentUpdate otherwise."""

    def setup_history(self, kind: str, item_id: str) -> list[dict[str, Any]]:
        """Every version of a record, oldest first."""


class SurveyStore(Protocol):
    """Tenant surveys (the quarterly NPS question); keys name a tenant by `satisfaction.tenant_key`."""

    def note_nps_due(self, quarter: str, tenant: str, data: dict[str, Any]) -> None:
        """The tenant had a job verified in `quarter` (the latest verification's data wins)."""

    def nps_due(self, quarter: str) -> list[dict[str, Any]]:
        """Every tenant noted for `quarter` (one Query), each with its `tenant` key."""

    def claim_survey(self, tenant: str, quarter: str, data: dict[str, Any]) -> bool:
        """Create the tenant's NPS question of `quarter`; False if it exists (asked once per quarter)."""

    def survey(self, tenant: str, quarter: str) -> dict[str, Any] | None: ...

    def answer_survey(self, tenant: str, quarter: str, answer: dict[str, Any]) -> bool:
        """Record the answer (`score`, ...) once; False if unasked or already answered."""

    def note_question(self, tenant: str, at: str) -> None:
        """When the tenant was last asked a survey question (ISO 8601)."""

    def last_question_at(self, tenant: str) -> str | None: ...

    def tenant_surveys(self, tenant: str) -> list[dict[str, Any]]:
        """Every survey record of a tenant key, each with `record` (its sort key: NPS#<quarter> or LAST)."""

    def forget_tenant(self, tenant: str) -> int:
        """Delete a tenant key's survey records and their NPS-due entries; returns how many were deleted."""


class RollupStore(Protocol):
    """KPI rollups (shared/domain/kpis.py): day buckets of counters, each work order's contribution to them,
    the status page views counted."""

    def claim_owner_report(self, property_id: str, month: str, at: str) -> bool:
        """Record that the property's owner report of `month` is being sent; False if it already was."""

    def release_owner_report(self, property_id: str, month: str) -> None:
        """Undo a claim whose email could not be sent (the next run tries again)."""

    def rollup_facts(self, wo_id: str) -> tuple[dict[str, dict[str, int]], int]:
        """A work order's contribution (bucket key -> counters) and its version (0: none yet)."""

    def replace_rollup_facts(self, wo_id: str, facts: dict[str, dict[str, int]],
                             change: dict[str, dict[str, int]], expected_version: int) -> None:
        """Store the new facts and add `change` to the buckets in one write; ConcurrentUpdate if the facts
        moved past `expected_version`."""

    def rollups(self, first: date, last: date) -> list[dict[str, Any]]:
        """Every bucket of the days from `first` to `last`: {key, day, property, trade, priority, vendor,
        counters}, by key. Queries only."""

    def count_status_view(self, wo_id: str, hour: str) -> bool:
        """Count a view of the work order's status page unless one was counted in this UTC hour
        ("yyyy-mm-ddThh"); True if this call counted it."""

    def status_views(self, wo_id: str) -> int:
        """The counted views of the work order's status page."""


class RepositoryPort(WorkOrderStore, DirectoryStore, InvoiceStore, LinkStore, PmsLinkStore, ChannelStore,
                     SetupStore, SurveyStore, RollupStore, Protocol):
    """Every kind of record (shared.adapters.repository.Repository; tests.fakes.InMemoryRepository)."""


# ---------------------------------------------------------------- outbound side effects
class EventPort(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class WorkflowPort(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start the named execution (a second start of a name returns the first one's ARN)."""

    def execution_arn(self, name: str) -> str: ...

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        """Complete a task-token wait. False when the wait is already over (timed out or done)."""

    def stop(self, execution_arn: str, cause: str) -> None: ...


class MessengerPort(Protocol):
    def sms(self, phone: str, body: str) -> str: ...

    def email(self, to: str, subject: str, body: str) -> str: ...


class SecretsPort(Protocol):
    def get(self, arn: str) -> str: ...


class QueuePort(Protocol):
    def send(self, queue_url: str, body: str, attributes: dict[str, str] | None = None) -> str: ...

    def send_delayed(self, queue_url: str, body: str, delay_seconds: int) -> str: ...

    def info(self, queue_url: str) -> QueueInfo:
        """The queue's ARN and approximate depth (visible messages)."""
        ...

    def start_move(self, dead_letter_arn: str) -> str:
        """Move a dead-letter queue's messages back to the queues they came from (an SQS message-move task);
        the task's handle."""
        ...

    def move_tasks(self, dead_letter_arn: str) -> list[MoveTask]:
        """The queue's recent move tasks, newest first."""
        ...


class ObjectStorePort(Protocol):
    def upload_slot(self, key: str, max_bytes: int, expires: int, content_type: str | None = None,
                    redirect: str | None = None) -> dict[str, Any]: ...

    def view_url(self, key: str, expires: int) -> str: ...

    def size(self, key: str) -> int | None: ...

    def head(self, key: str, length: int) -> bytes:
        """The first `length` bytes; ObjectGone if the object was deleted meanwhile."""

    def read(self, key: str) -> bytes: ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def copy(self, source: str, target: str, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class ContinuationPort(Protocol):
    def continue_later(self, function_arn: str, event: dict[str, Any]) -> None:
        """Invoke `function_arn` (the running function itself) again, asynchronously, with `event` (JSON), to go
        on with work that would outlast this invocation (a reconciliation's next step). Returns before it runs."""


class SchedulesPort(Protocol):
    def put(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """Create the one-time schedule, or move an existing one with this name to the new time and payload."""
