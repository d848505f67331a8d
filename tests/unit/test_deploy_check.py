"""infra/deploy_check.py gives each function the environment its template declares, every intrinsic resolved to
a plain string (what Lambda would see, with placeholders for the deployed names)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import deploy_check

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = deploy_check.load(ROOT / "template.yaml")
RESOLVER = deploy_check.Resolver(TEMPLATE)
FUNCTIONS = {k: v for k, v in TEMPLATE["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_environment_value_resolves_to_a_plain_string(name: str) -> None:
    variables = {**TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
                 **FUNCTIONS[name]["Properties"].get("Environment", {}).get("Variables", {})}
    for key, node in variables.items():
        value = RESOLVER.value(node)
        assert isinstance(value, (str, int, float)), (name, key, value)
        assert "Fn::" not in str(value) and "${" not in str(value), (name, key, value)


def test_sample_values_of_required_parameters_pass_their_patterns() -> None:
    for name, spec in TEMPLATE["Parameters"].items():
        if "Default" not in spec:
            assert name in deploy_check.SAMPLE_PARAMETERS, name
            assert re.fullmatch(spec.get("AllowedPattern", ".*"), deploy_check.SAMPLE_PARAMETERS[name]), name


def test_intrinsics_resolve_like_cloudformation() -> None:
    assert RESOLVER.value({"Fn::Sub": "opslayer-${Stage}-pms-sync"}) == "opslayer-dev-pms-sync"
    assert RESOLVER.value({"Ref": "IntakeQueue"}) == "https://sqs.us-east-1.amazonaws.com/123456789012/IntakeQueue"
    assert RESOLVER.value({"Fn::GetAtt": ["Table", "Arn"]}).startswith("arn:aws:dynamodb:us-east-1:")
    assert RESOLVER.value({"Fn::If": ["UseOpsKey", "key", "no key"]}) == "no key"  # OpsAuthMode defaults to iam
    assert RESOLVER.value({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
