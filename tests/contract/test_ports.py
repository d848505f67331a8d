"""Every port's implementations - the AWS adapter and its in-memory twin - have every method of the port
(shared/ports.py) with the same parameters, so a method added to one cannot be forgotten in the other.
What the methods do is the business of the contract suites next to this file."""

from __future__ import annotations

import inspect

import pytest

from shared import ports
from shared.adapters.continuations import LambdaContinuations
from shared.adapters.messaging import EventPublisher, Messenger, QueueSender, SecretCache, Workflow
from shared.adapters.repository import (
    Channels,
    Directory,
    Invoices,
    Links,
    PmsLinks,
    Repository,
    Surveys,
    WorkOrders,
)
from shared.adapters.scheduler import OneTimeSchedules
from shared.adapters.storage import ObjectStore
from shared.pms.buildium import BuildiumClient
from shared.pms.port import PmsPort
from tests import fakes

IMPLEMENTATIONS: list[tuple[type, type, type]] = [  # port, AWS adapter, twin
    (ports.WorkOrderStore, WorkOrders, fakes.InMemoryWorkOrders),
    (ports.DirectoryStore, Directory, fakes.InMemoryDirectory),
    (ports.InvoiceStore, Invoices, fakes.InMemoryInvoices),
    (ports.LinkStore, Links, fakes.InMemoryLinks),
    (ports.PmsLinkStore, PmsLinks, fakes.InMemoryPmsLinks),
    (ports.ChannelStore, Channels, fakes.InMemoryChannels),
    (ports.SurveyStore, Surveys, fakes.InMemorySurveys),
    (ports.RepositoryPort, Repository, fakes.InMemoryRepository),
    (ports.EventPort, EventPublisher, fakes.RecordingEvents),
    (ports.WorkflowPort, Workflow, fakes.FakeWorkflow),
    (ports.MessengerPort, Messenger, fakes.Outbox),
    (ports.SecretsPort, SecretCache, fakes.FakeSecrets),
    (ports.QueuePort, QueueSender, fakes.FakeQueues),
    (ports.ObjectStorePort, ObjectStore, fakes.InMemoryObjectStore),
    (ports.SchedulesPort, OneTimeSchedules, fakes.FakeSchedules),
    (ports.ContinuationPort, LambdaContinuations, fakes.RecordedContinuations),
    (PmsPort, BuildiumClient, fakes.InMemoryPms),
]


def port_methods(port: type) -> list[str]:
    return sorted(name for name, _ in inspect.getmembers(port, inspect.isfunction) if not name.startswith("_"))


def parameters(method: object) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(method).parameters.values()]  # type: ignore[arg-type]


@pytest.mark.parametrize(("port", "adapter", "twin"), IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_adapter_and_twin_have_every_method_of_the_port(port: type, adapter: type, twin: type) -> None:
    methods = port_methods(port)
    assert methods
    for name in methods:
        expected = parameters(getattr(port, name))
        assert parameters(getattr(adapter, name)) == expected, f"{adapter.__name__}.{name}"
        assert parameters(getattr(twin, name)) == expected, f"{twin.__name__}.{name}"


@pytest.mark.parametrize("adapter", [Repository, fakes.InMemoryRepository], ids=lambda c: c.__name__)
def test_the_repository_port_is_the_whole_repository(adapter: type) -> None:
    """No public repository method outside the ports (a new one needs its place in shared/ports.py)."""
    public = {n for n, _ in inspect.getmembers(adapter, inspect.isfunction) if not n.startswith("_")}
    assert public == set(port_methods(ports.RepositoryPort))
