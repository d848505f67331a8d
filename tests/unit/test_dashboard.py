"""The ops dashboard and the alarms cannot drift from the code: every metric a widget or an alarm names in the
Opslayer namespace is one `shared/` or `functions/` writes (with the dimensions it writes), every per-deployment
metric the code writes is registered (shared/observability.py DEPLOYMENT_METRICS) and on the dashboard, and every
AWS metric names a resource of the template. The code side is read from the sources' syntax trees (no grep)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.localcloud.template import load_template
from shared.domain.enums import Priority
from shared.domain.workorder import TRANSITIONS, Status
from shared.drill_runner import SCENARIOS
from shared.observability import DEPLOYMENT_METRICS
from shared.services.stuck import COUNTED_STATUSES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STAGE, REGION = "STAGE", "REGION"  # what the test substitutes for ${Stage} and ${AWS::Region}
EMITTERS = {"alarm_count", "stage_metric"}  # shared/observability.py: the per-deployment metrics


@dataclass(frozen=True)
class MetricRef:
    """A metric a widget or an alarm names: namespace, name, dimensions (value "@X" is resource X)."""

    where: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    @property
    def dims(self) -> dict[str, str]:
        return dict(self.dimensions)


# ---------------------------------------------------------------- the template's side
def substitute(text: str) -> str:
    """Fn::Sub as the test sees it: ${Stage} and ${AWS::Region} become placeholders, ${X} and ${X.Attr}
    become "@X" / "@X.Attr" (and X must be a resource or a parameter of the template)."""
    def one(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref == "Stage":
            return STAGE
        if ref == "AWS::Region":
            return REGION
        assert ref.split(".")[0] in RESOURCES, f"${{{ref}}} names no resource of the template"
        return f"@{ref}"
    return re.sub(r"\$\{([^}!]+)\}", one, text)


def value(v: Any) -> str:
    """An alarm's dimension value, as the dashboard's substitution would write it."""
    if isinstance(v, str):
        return v
    if "Ref" in v:
        return STAGE if v["Ref"] == "Stage" else f"@{v['Ref']}"
    if "Fn::GetAtt" in v:
        return "@" + ".".join(v["Fn::GetAtt"])
    if "Fn::Sub" in v:
        return substitute(v["Fn::Sub"])
    raise AssertionError(f"unexpected dimension value {v}")


def dashboard(resources: dict[str, Any] = RESOURCES) -> dict[str, Any]:
    body = resources["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(substitute(body))


def widget_metrics(body: dict[str, Any]) -> list[MetricRef]:
    refs = []
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        title = widget["properties"]["title"]
        for entry in widget["properties"]["metrics"]:
            plain = [x for x in entry if not isinstance(x, dict)]
            options = next((x for x in entry if isinstance(x, dict)), {})
            if not plain and "expression" in options:
                continue  # metric math over the entries around it
            assert "..." not in plain, f"{title}: write every metric in full (no '...'): the test reads them"
            namespace, name, *pairs = plain
            assert len(pairs) % 2 == 0, f"{title}: {entry}"
            refs.append(MetricRef(f"widget {title!r}", namespace, name, tuple(zip(pairs[::2], pairs[1::2],
                                                                                 strict=True))))
    return refs


def alarm_metrics() -> list[MetricRef]:
    refs = []
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        assert "Metrics" not in props, f"{logical_id}: metric math alarms need reading here too"
        refs.append(MetricRef(f"alarm {logical_id}", props["Namespace"], props["MetricName"],
                              tuple((d["Name"], value(d["Value"])) for d in props.get("Dimensions", []))))
    return refs


# ---------------------------------------------------------------- the code's side
@dataclass(frozen=True)
class Emitted:
    where: str
    name: str
    dimensions: frozenset[str]


def _strings(node: ast.AST) -> list[str] | None:
    """The strings of a literal: "x", {"x", "y"}, frozenset({"x"}), ("x",)..."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("frozenset", "set") \
            and len(node.args) == 1:
        return _strings(node.args[0])
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        found = [_strings(e) for e in node.elts]
        return None if any(f is None for f in found) else [s for f in found for s in f or []]
    return None


def emitted_in(source: str, where: str) -> list[Emitted]:
    """Every per-deployment metric a module writes: the name a call to alarm_count/stage_metric passes (a
    literal, a module constant, or a variable the call is guarded by: `if name in CONSTANT: alarm_count(name)`),
    with the dimensions it passes. A name the test cannot tell fails the test."""
    tree = ast.parse(source)
    constants: dict[str, list[str]] = {}
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        value_node = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and value_node is not None and (found := _strings(value_node)):
                constants[target.id] = found
    guards: dict[int, list[str]] = {}  # id(call) -> the names its guard allows
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) \
                and isinstance(test.ops[0], ast.In) and isinstance(test.comparators[0], ast.Name) \
                and test.comparators[0].id in constants:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and inner.args and isinstance(inner.args[0], ast.Name) \
                        and inner.args[0].id == test.left.id:
                    guards[id(inner)] = constants[test.comparators[0].id]
    found: list[Emitted] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if func not in EMITTERS:
            continue
        at = f"{where}:{node.lineno}"
        assert node.args, f"{at}: the metric's name is the first argument"
        first = node.args[0]
        names = _strings(first) or (constants.get(first.id) if isinstance(first, ast.Name) else None) \
            or guards.get(id(node))
        assert names, f"{at}: the test cannot tell which metric {func}() writes (a literal or a constant, please)"
        keys = frozenset(k.arg for k in node.keywords if k.arg and k.arg != "details")
        found += [Emitted(at, name, keys) for name in names]
    return found


def emitted() -> list[Emitted]:
    found = []
    for folder in ("shared", "functions"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "observability.py" and path.parent.name == "shared":
                continue  # the emitters themselves
            found += emitted_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    return found


def drift(referenced: list[MetricRef], registry: dict[str, tuple[tuple[str, ...], ...]]) -> list[str]:
    """What a widget or an alarm names in the Opslayer namespace that the code does not write."""
    problems = []
    for ref in referenced:
        if ref.namespace != "Opslayer":
            continue
        if ref.name not in registry:
            problems.append(f"{ref.where}: {ref.name} is not a metric the code writes")
            continue
        keys = tuple(k for k, _ in ref.dimensions if k != "Stage")
        if ref.dims.get("Stage") != STAGE or set(keys) not in [set(s) for s in registry[ref.name]]:
            problems.append(f"{ref.where}: {ref.name} by {['Stage', *keys]} is not a series the code writes "
                            f"(it writes {[['Stage', *s] for s in registry[ref.name]]})")
    return problems


EMITTED = emitted()
REFERENCED = widget_metrics(dashboard()) + alarm_metrics()


# ---------------------------------------------------------------- the checks
def test_every_opslayer_metric_a_widget_or_an_alarm_names_is_written_by_the_code_with_those_dimensions() -> None:
    assert drift(REFERENCED, DEPLOYMENT_METRICS) == []


def test_the_drift_check_fails_for_a_metric_nobody_writes_or_a_series_nobody_writes() -> None:
    body = dashboard()
    body["widgets"].append({"type": "metric", "properties": {"title": "typo", "metrics": [
        ["Opslayer", "StageSecond", "Stage", STAGE, "Status", "received"],
        ["Opslayer", "OpenWorkOrders", "Stage", STAGE, "Priority", "emergency"],
        ["Opslayer", "DrillFailed", "Stage", "prod"]]}})
    problems = drift(widget_metrics(body), DEPLOYMENT_METRICS)
    assert len(problems) == 3
    assert "StageSecond is not a metric the code writes" in problems[0]
    assert "OpenWorkOrders by ['Stage', 'Priority'] is not a series" in problems[1]


def test_every_name_the_code_writes_is_registered_with_the_dimensions_it_passes() -> None:
    assert EMITTED, "no alarm_count/stage_metric call found: the scan is broken"
    for e in EMITTED:
        assert e.name in DEPLOYMENT_METRICS, f"{e.where}: {e.name} is not in DEPLOYMENT_METRICS"
        registered = {k for keys in DEPLOYMENT_METRICS[e.name] for k in keys}
        assert e.dimensions == registered, f"{e.where}: {e.name} passes {set(e.dimensions)}, registered {registered}"


def test_every_registered_metric_is_written_somewhere_and_shown_on_the_dashboard() -> None:
    assert set(DEPLOYMENT_METRICS) == {e.name for e in EMITTED}
    shown = {r.name for r in widget_metrics(dashboard()) if r.namespace == "Opslayer"}
    assert set(DEPLOYMENT_METRICS) <= shown


def test_the_scan_reads_literals_constants_and_guarded_names() -> None:
    source = '''
NAME = "Second"
WATCHED = frozenset({"Third", "Fourth"})
def f(kind):
    alarm_count("First")
    observability.stage_metric(NAME, 1, "Seconds", Status="x", details={"work_order_id": "wo-1"})
    if kind in WATCHED:
        alarm_count(kind)
'''
    found = {(e.name, e.dimensions) for e in emitted_in(source, "m.py")}
    assert found == {("First", frozenset()), ("Second", frozenset({"Status"})), ("Third", frozenset()),
                     ("Fourth", frozenset())}
    with pytest.raises(AssertionError, match="cannot tell which metric"):
        emitted_in("def f(kind):\n    alarm_count(kind)\n", "m.py")


def test_dimension_values_are_ones_the_code_writes() -> None:
    left = {s.value for s, after in TRANSITIONS.items() if after - {s}} | {Status.ESCALATED.value}
    scenarios = {"setup", *(s.__name__ for s in SCENARIOS)}
    allowed = {("StageSeconds", "Status"): left, ("StageSeconds", "Priority"): {p.value for p in Priority},
               ("OpenWorkOrders", "Status"): {s.value for s in COUNTED_STATUSES},
               ("DrillScenarioSeconds", "Scenario"): scenarios}
    for ref in REFERENCED:
        for key, val in ref.dimensions:
            if (ref.name, key) in allowed:
                assert val in allowed[ref.name, key], f"{ref.where}: {ref.name} {key}={val} is never written"
    shown_open = {r.dims["Status"] for r in REFERENCED if r.name == "OpenWorkOrders"}
    assert shown_open == {s.value for s in COUNTED_STATUSES}, "every status the sweep counts is on the widget"


def test_aws_metrics_name_resources_of_the_template() -> None:
    api_name = substitute(RESOURCES["Api"]["Properties"]["Name"]["Fn::Sub"])
    expected = {"AWS/Lambda": ("FunctionName", "", {"AWS::Serverless::Function"}),
                "AWS/SQS": ("QueueName", ".QueueName", {"AWS::SQS::Queue"}),
                "AWS/States": ("StateMachineArn", "", {"AWS::Serverless::StateMachine"})}
    for ref in REFERENCED:
        if ref.namespace == "Opslayer":
            continue
        if ref.namespace == "AWS/ApiGateway":
            assert ref.dims == {"ApiName": api_name, "Stage": STAGE}, ref
            continue
        assert ref.namespace in expected, f"{ref.where}: namespace {ref.namespace} is not checked here"
        key, attr, types = expected[ref.namespace]
        assert list(ref.dims) == [key], ref
        match = re.fullmatch(rf"@(\w+){re.escape(attr)}", ref.dims[key])
        assert match and RESOURCES[match.group(1)]["Type"] in types, f"{ref.where}: {ref.dims[key]}"


def test_the_dashboard_shows_every_functions_errors_and_every_dead_letter_queue() -> None:
    refs = widget_metrics(dashboard())
    functions = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
    dlqs = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue" and k.endswith("DLQ")}
    assert {r.dims["FunctionName"][1:] for r in refs if (r.namespace, r.name) == ("AWS/Lambda", "Errors")} == functions
    assert {r.dims["QueueName"][1:].removesuffix(".QueueName") for r in refs
            if (r.namespace, r.name) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")} == dlqs
    assert any(r.name == "5XXError" for r in refs) and any(r.name == "ExecutionsFailed" for r in refs)
    for widget in dashboard()["widgets"]:
        assert widget["properties"].get("region", REGION) == REGION
    assert "${OpsDashboard}" in TEMPLATE["Outputs"]["OpsDashboardUrl"]["Value"]["Fn::Sub"]


def test_the_saved_queries_read_every_functions_log_group() -> None:
    queries = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::Logs::QueryDefinition"}
    assert set(queries) == {"WorkOrderStoryQuery", "ErrorsByFunctionQuery", "SlowestStagesQuery"}
    function_groups = {f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in RESOURCES.values()
                       if f["Type"] == "AWS::Serverless::Function"}
    for logical_id, props in queries.items():
        groups = {g["Ref"] for g in props["LogGroupNames"]}
        assert all(RESOURCES[g]["Type"] == "AWS::Logs::LogGroup" for g in groups), logical_id
        assert function_groups <= groups, f"{logical_id} misses {function_groups - groups}"
        assert props["Name"]["Fn::Sub"].startswith("opslayer-${Stage}/")
    assert "work_order_id" in queries["WorkOrderStoryQuery"]["QueryString"]
    assert "ispresent(StageSeconds)" in queries["SlowestStagesQuery"]["QueryString"]
