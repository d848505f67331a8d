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
    "SenderEmail": "maintenance@example.com",  # required (no default); the address the tests' mail goes to
    # The stage timers are the real ones (shared/rules/timers.json): tests that watch a timer fire advance
    # the frozen clock, which Step Functions' task timeouts and Wait states run on (tests/integration/conftest.py).
    # Tests advance the frozen clock by days (to let a timer run out): the recurring jobs would then run for
    # every hour and day skipped. They run when a test fires them (fire_schedule), and once a year otherwise.
    "ReconcileScheduleExpression": "rate(365 days)",
    "PreventiveScheduleExpression": "rate(365 days)",
    "InsuranceCheckScheduleExpression": "rate(365 days)",
    "StuckSweepScheduleExpression": "rate(365 days)",
    "DrillScheduleExpression": "rate(365 days)",
    "NpsScheduleExpression": "rate(365 days)",
    "OwnerReportScheduleExpression": "rate(365 days)",
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
    # The clock is frozen: schedules fire and Step Functions timers end only when a test advances it.
    local = LocalCloud(template=REPO_ROOT / "template.yaml", parameters=parameters, region="us-east-1",
                       frozen_clock=True)
    local.start()
    from infra.localcloud import iam_audit

    iam_audit.start()  # every AWS call a handler makes this session, checked against its role at the end
    try:
        yield local
        unallowed = iam_audit.unallowed(local)
        if unallowed:  # works here, AccessDenied on AWS: the local cloud does not enforce IAM
            pytest.fail(f"handlers called AWS actions their role does not allow: {unallowed}", pytrace=False)
    finally:
        local.stop()
