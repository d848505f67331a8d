"""Every alarm in the template is explained where ops look: docs/operating.md says what it means and what to do,
the README names it (a function's errors and throttles alarms by their `<Function>ErrorsAlarm` pattern)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = load_template(ROOT / "template.yaml")["Resources"]
ALARMS = sorted(k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm")
FUNCTION_ALARM = re.compile(r"^(?P<function>\w+?)(?P<kind>Errors|Throttles)Alarm$")


def documented_name(alarm: str) -> str:
    found = FUNCTION_ALARM.match(alarm)
    if found and f"{found['function']}Function" in RESOURCES:
        return f"<Function>{found['kind']}Alarm"
    return alarm


@pytest.mark.parametrize("doc", ["docs/operating.md", "README.md"])
def test_every_alarm_is_named_in_the_docs(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert ALARMS and "DrillFailedAlarm" in ALARMS
    missing = sorted({documented_name(a) for a in ALARMS if f"`{documented_name(a)}`" not in text})
    assert not missing, f"{doc} does not name {missing}"
