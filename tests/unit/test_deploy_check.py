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


def built_function(tmp_path: Path, code: str, service: str = "intake") -> deploy_check.Function:
    """A one-module function and an empty layer, as `sam build` lays them out."""
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text(code)
    (tmp_path / "layer").mkdir()
    return deploy_check.Function("CheckedFunction", "handler.lambda_handler", tmp_path / "fn",
                                 (tmp_path / "layer",), {"POWERTOOLS_SERVICE_NAME": service}, 512)


def run(fn: deploy_check.Function) -> deploy_check.Result:
    import sys

    return deploy_check.check(fn, sys.executable, runtime_site=[], host_binaries=[])


@pytest.mark.parametrize(("code", "error"), [
    ("def lambda_handler(event, context):\n    return 1\n", None),
    ("import pydantic\n", "ModuleNotFoundError: No module named 'pydantic'"),  # not in the artifacts
    ("lambda_handler = 42\n", "handler.lambda_handler is not callable"),
    ("import os\nlambda_handler = print if os.environ['_HANDLER'] == 'handler.lambda_handler' else None\n", None),
])
def test_a_handler_is_imported_in_a_fresh_process_from_the_artifacts_alone(tmp_path: Path, code: str,
                                                                          error: str | None) -> None:
    result = run(built_function(tmp_path, code))
    assert result.error == error
    assert (result.ms is not None) is (error is None or "callable" in error)
