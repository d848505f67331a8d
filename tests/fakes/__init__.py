"""In-memory twins of every port Opslayer's use cases reach through `Services`, for service tests that
run in milliseconds. Each twin is kept honest by a contract test against the real adapter
(tests/contract/test_*_contract.py)."""

from tests.fakes.clock import FrozenClock
from tests.fakes.continuations import Continuation, RecordedContinuations
from tests.fakes.messaging import (
    Execution,
    FakeQueues,
    FakeSecrets,
    FakeWorkflow,
    Outbox,
    QueuedMessage,
    RecordingEvents,
    SentMessage,
)
from tests.fakes.pms import InMemoryPms, SyncCall
from tests.fakes.repository import (
    InMemoryChannels,
    InMemoryDirectory,
    InMemoryInvoices,
    InMemoryLinks,
    InMemoryPmsLinks,
    InMemoryRepository,
    InMemorySurveys,
    InMemoryWorkOrders,
)
from tests.fakes.schedules import FakeSchedules, Scheduled
from tests.fakes.services import DEFAULT_NOW, DEMO_IDS, fake_secret_values, fake_services, fake_settings, seed_demo
from tests.fakes.storage import InMemoryBuckets, InMemoryObjectStore, StoredObject
from tests.fakes.table import AwsError, MemoryTable

__all__ = [
    "DEFAULT_NOW",
    "DEMO_IDS",
    "AwsError",
    "Continuation",
    "Execution",
    "FakeQueues",
    "FakeSchedules",
    "FakeSecrets",
    "FakeWorkflow",
    "FrozenClock",
    "InMemoryBuckets",
    "InMemoryChannels",
    "InMemoryDirectory",
    "InMemoryInvoices",
    "InMemoryLinks",
    "InMemoryObjectStore",
    "InMemoryPms",
    "InMemoryPmsLinks",
    "InMemoryRepository",
    "InMemorySurveys",
    "InMemoryWorkOrders",
    "MemoryTable",
    "Outbox",
    "QueuedMessage",
    "RecordedContinuations",
    "RecordingEvents",
    "Scheduled",
    "SentMessage",
    "StoredObject",
    "SyncCall",
    "fake_secret_values",
    "fake_services",
    "fake_settings",
    "seed_demo",
]
