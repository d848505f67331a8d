"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# moto must never see real credentials or an unset region; set them before anything imports it.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SECURITY_TOKEN", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")

if TYPE_CHECKING:
    from infra.fake_buildium import FakeBuildium
    from infra.localcloud import LocalCloud

REPO_ROOT = Path(__file__).resolve().parent.parent

CLOUD_PARAMETERS = {
    "Stage": "test",
    "OpsAuthMode": "key",
    "PublicBaseUrl": "http://testserver",
    # Short, so a test can watch an urgent offer expire, a routine visit's arrive timer fire, and an urgent
    # job's invoice and approval reminders.
    "StageTimerOverrides": '{"accept": {"urgent": 2}, "arrive": {"routine": 60}, "invoice": {"urgent": 2}, '
                           '"approval": {"urgent": 2}}',
    # The whole suite comes from one IP; the per-link limit is low enough to test in a second.
    "RateLimitPerIpPerMinute": "100000",
    "RateLimitPerLinkPerMinute": "60",
    # Two alert emails and one phone: the subscription slots beyond them stay off (their Conditions).
    "OpsAlertEmails": "ops-alerts@opslayer.test,ops-lead@opslayer.test",
    "OpsAlertPhones": "+15550100098",
}


@pytest.fixture(scope="session")
def fake_buildium() -> Iterator[FakeBuildium]:
    """The PMS of the test session: a fake Buildium account holding the demo portfolio."""
    from infra.fake_buildium import FakeBuildium

    fake = FakeBuildium.from_demo().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def cloud(fake_buildium: FakeBuildium) -> Iterator[LocalCloud]:
    """template.yaml deployed once per test session into the in-process local cloud."""
    from infra.localcloud import LocalCloud

    parameters = {**CLOUD_PARAMETERS, "BuildiumBaseUrl": fake_buildium.url,
                  "BuildiumAccountId": str(fake_buildium.account_id)}
    # The clock is frozen: schedules fire only when a test fires them (no surprise reconciliation).
    local = LocalCloud(template=REPO_ROOT / "template.yaml", parameters=parameters, region="us-east-1",
                       frozen_clock=True)
    local.start()
    try:
        yield local
    finally:
        local.stop()
