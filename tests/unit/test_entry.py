"""The one Lambda entry decorator: settings checked at cold start, the Powertools stack per invocation."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.localcloud.template import load_template
from shared.config import ENV_VARS, MissingSetting
from tests.lambda_modules import every_setting, fresh_import, handler_module

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}


def _required(function: str) -> tuple[str, ...]:
    module, attr = handler_module(FUNCTIONS[function])
    with fresh_import(module, every_setting()) as loaded:
        return getattr(loaded, attr).required_settings


REQUIRED = {name: _required(name) for name in sorted(FUNCTIONS)}


@pytest.mark.parametrize(("function", "setting"), [(f, s) for f, names in REQUIRED.items() for s in names])
def test_a_function_without_a_required_setting_fails_at_import_naming_the_env_var(function, setting):
    module, _ = handler_module(FUNCTIONS[function])
    for missing in (None, "", "  "):
        env = every_setting()
        if missing is None:
            del env[ENV_VARS[setting]]
        else:
            env[ENV_VARS[setting]] = missing
        with pytest.raises(MissingSetting, match=ENV_VARS[setting]), fresh_import(module, env):
            pass


def _environment(function: str) -> dict:
    return {**TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
            **FUNCTIONS[function]["Properties"].get("Environment", {}).get("Variables", {})}


def _never_empty(value) -> bool:
    """A template value that cannot resolve to an empty string (a parameter counts if its default is not
    empty; a deployment that overrides it with "" is stopped by the cold-start check)."""
    if isinstance(value, str | int):
        return str(value) != ""
    if "Ref" in value:
        parameter = TEMPLATE.get("Parameters", {}).get(value["Ref"])
        return parameter is None or str(parameter.get("Default", "")) != "" or "Default" not in parameter
    if "Fn::If" in value:
        condition, if_true, if_false = value["Fn::If"]
        return (_never_empty(if_true) or _says_not_empty(condition, if_true)) and _never_empty(if_false)
    return any(key in value for key in ("Fn::Sub", "Fn::GetAtt", "Fn::Join"))


def _says_not_empty(condition: str, value) -> bool:
    """The condition is `!Not [!Equals [!Ref X, ""]]` and the value is `!Ref X`."""
    test = TEMPLATE.get("Conditions", {}).get(condition, {})
    equals = (test.get("Fn::Not") or [{}])[0].get("Fn::Equals") or []
    return isinstance(value, dict) and sorted(equals, key=str) == sorted([value, ""], key=str)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_gives_every_function_what_it_requires(function):
    env = _environment(function)
    for setting in REQUIRED[function]:
        var = ENV_VARS[setting]
        assert var in env, f"{function} requires {var}; its Environment in template.yaml does not set it"
        assert _never_empty(env[var]), f"{function} requires {var}; the template may set it empty: {env[var]}"


def test_every_function_has_its_own_service_name():
    names = [_environment(f).get("POWERTOOLS_SERVICE_NAME") for f in sorted(FUNCTIONS)]
    assert all(names) and len(set(names)) == len(names), names


def test_a_setting_that_does_not_exist_is_refused():
    from shared.entry import lambda_entry

    with pytest.raises(ValueError, match="not settings: tabel_name"):
        lambda_entry(requires=("tabel_name",))


def test_a_decorated_handler_logs_with_its_service_name_and_flushes_its_metrics(monkeypatch, capsys):
    from shared.entry import lambda_entry
    from shared.observability import count, logger, metrics

    metrics.clear_metrics()  # only this invocation's metric (other tests may have counted outside a handler)
    for var, value in every_setting().items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    @lambda_entry()
    def lambda_handler(event, context):
        count("UnitTestInvocation")
        logger.info("handled", extra={"work_order_id": event["id"]})
        return {"ok": True}

    context = SimpleNamespace(function_name="opslayer-test-unit", memory_limit_in_mb=128,
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:unit",
                              aws_request_id="req-1")
    for service in ("unit-one", "unit-two"):  # one process, two functions: each logs as itself
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
        capsys.readouterr()
        assert lambda_handler({"id": "wo-1"}, context) == {"ok": True}
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        log = next(line for line in lines if line.get("message") == "handled")
        assert log["service"] == service and log["function_name"] == "opslayer-test-unit"
        assert log["work_order_id"] == "wo-1"
        emf = [line for line in lines if "_aws" in line]
        assert [m["Name"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["UnitTestInvocation"]
    assert lambda_handler.__name__ == "lambda_handler"


def test_concurrent_invocations_in_one_process_each_log_their_own_service_and_ids(monkeypatch, capsys):
    """The local cloud runs every function on threads of one process: keys must not cross invocations."""
    import threading

    from infra.localcloud import envoverlay
    from shared.entry import lambda_entry
    from shared.observability import bind, logger

    for var, value in every_setting().items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    both_bound = threading.Barrier(2, timeout=10)

    @lambda_entry()
    def lambda_handler(event, context):
        bind(work_order_id=event["id"])
        both_bound.wait()  # each has bound its keys before either logs
        logger.info("handled")
        return event["id"]

    def invoke(service: str, work_order_id: str) -> None:
        context = SimpleNamespace(function_name=f"opslayer-test-{service}", memory_limit_in_mb=128,
                                  invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{service}",
                                  aws_request_id=f"req-{service}")
        with envoverlay.overlay({"POWERTOOLS_SERVICE_NAME": service}):
            lambda_handler({"id": work_order_id}, context)

    capsys.readouterr()
    threads = [threading.Thread(target=invoke, args=args) for args in (("intake", "wo-a"), ("triage", "wo-b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"message":"handled"' in line]
    seen = {(log["service"], log["function_name"], log["function_arn"].rsplit(":", 1)[-1], log["work_order_id"])
            for log in logs}
    assert seen == {("intake", "opslayer-test-intake", "intake", "wo-a"),
                    ("triage", "opslayer-test-triage", "triage", "wo-b")}


# ---------------------------------------------------------------- transient AWS errors: the workflow retries them
def _failing_handler(monkeypatch, exc: Exception):
    from shared.entry import lambda_entry

    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("EVENT_BUS_NAME", "b")

    @lambda_entry()
    def handler(event, context):
        raise exc

    return handler


def _client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}}, "UpdateItem")


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "TransactionConflictException", "InternalServerError", "ServiceUnavailable"])
def test_an_aws_call_still_throttled_after_the_sdk_retries_fails_as_a_transient_error(monkeypatch, code):
    from shared.entry import TransientError

    handler = _failing_handler(monkeypatch, _client_error(code))
    with pytest.raises(TransientError, match=code) as raised:
        handler({}, SimpleNamespace(function_name="f", invoked_function_arn="arn", memory_limit_in_mb=128,
                                    aws_request_id="r"))
    assert type(raised.value).__name__ == "TransientError"  # the error name the state machine's Retry matches


@pytest.mark.parametrize("exc", [_client_error("ValidationException"), _client_error("AccessDeniedException"),
                                 ValueError("bad input")])
def test_other_errors_are_not_transient(monkeypatch, exc):
    handler = _failing_handler(monkeypatch, exc)
    with pytest.raises(type(exc)):
        handler({}, SimpleNamespace(function_name="f", invoked_function_arn="arn", memory_limit_in_mb=128,
                                    aws_request_id="r"))


def test_every_lambda_step_of_the_workflow_retries_transient_errors():
    from shared.entry import TransientError

    asl = json.loads((ROOT / "state_machines" / "work_order.asl.json").read_text())
    lambda_steps = {name: state for name, state in asl["States"].items()
                    if state["Type"] == "Task" and state["Resource"].startswith("arn:aws:states:::lambda:invoke")}
    assert lambda_steps
    for name, state in lambda_steps.items():
        retried = {error for rule in state.get("Retry", []) for error in rule["ErrorEquals"]}
        assert TransientError.__name__ in retried, name
        if name != "RecordFailure":  # any other error, a timeout included, ends with the work order escalated
            assert any("States.ALL" in c["ErrorEquals"] and c["Next"] == "RecordFailure"
                       for c in state.get("Catch", [])), name
