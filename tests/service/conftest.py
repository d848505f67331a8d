"""Service tests: use cases called directly on in-memory fakes (tests/fakes), no cloud. Each test gets
fresh fakes holding the demo portfolio, the clock frozen at a Wednesday 10:00 in the demo's time zone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.observability import metrics
from shared.services.container import Services
from tests.fakes import fake_services, seed_demo


@pytest.fixture(autouse=True)
def _no_metrics_left_behind() -> Iterator[None]:
    """Use cases count metrics that a Lambda invocation would flush; here no handler does, so drop them."""
    yield
    metrics.clear_metrics()


@pytest.fixture
def svc() -> Services:
    """`svc.repo` is an InMemoryRepository, `svc.clock` a FrozenClock (`svc.clock.advance(seconds=..)`),
    `svc.events` RecordingEvents, `svc.workflow` a FakeWorkflow, `svc.messenger` an Outbox
    (`svc.messenger.sent_to(phone_or_email)`), `svc.queues` FakeQueues; `svc.pms()` an InMemoryPms,
    `svc.schedules()` FakeSchedules, `svc.documents()`/`photo_store()`/`inbound_mail()` in-memory buckets."""
    services = fake_services()
    seed_demo(services.repo, services.clock().date())
    return services
