"""Patch: ``iot-data Publish`` goes through the enabled IoT topic rules.

Moto gap closed: moto's ``IoTDataPlaneBackend.publish`` only records ``(topic, payload)``; topic
rules are stored but never evaluated. Here every publish (in-process or through the moto server)
is still recorded and then matched against each enabled rule of the account/region: the rule's
SQL (the subset in :mod:`infra.localcloud.iotsql`, parsed once per rule) decides whether and what
to forward, and the rule's actions run asynchronously on the delivery pool (owner: the rule ARN),
as the rules engine does -- the publish returns at once.

Actions: ``sqs`` (``queueUrl``, ``useBase64``; body = the rule output) and ``lambda`` (an
asynchronous invoke with the output as event). If any action fails, one message per rule and
publish goes to the ``errorAction`` (itself ``sqs`` or ``lambda``), shaped as AWS IoT documents it:
``ruleName``, ``topic``, ``cloudwatchTraceId``, ``clientId``, ``base64OriginalPayload`` and
``failures`` (``failedAction``, ``failedResource``, ``errorMessage``). A Lambda action needs a JSON
output (AWS: Lambda actions do not take binary payloads); a raw non-JSON payload fails it.

Second gap: in-process, moto only intercepts ``data.iot.<region>`` and ``data-ats.iot.<region>``;
the account-specific endpoint ``DescribeEndpoint(endpointType="iot:Data-ATS")`` returns
(``<id>-ats.iot.<region>.amazonaws.com``, what handlers pass as ``endpoint_url``) reached for the
real internet. It is routed to moto's IoT data plane too.

Rules created through CloudFormation are validated at deploy time (:func:`validate_rule`); rules
created later through the API with unsupported SQL or actions are skipped with a warning.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from typing import Any

from infra.localcloud import iotsql
from infra.localcloud.pumps import deliveries

log = logging.getLogger("infra.localcloud.iot")

SUPPORTED_ACTIONS = {"sqs": "SqsAction", "lambda": "LambdaAction"}

_applied = False
_lock = threading.Lock()
_queries: dict[tuple[str, str, str], tuple[str, iotsql.Query | None]] = {}  # (account, region, rule) -> (sql, query)
_warned: set[tuple[str, str]] = set()


class UnsupportedTopicRule(ValueError):
    """A topic rule the local cloud cannot run as written (raised when it is deployed)."""


def _action_kind(action: dict[str, Any]) -> str:
    kinds = [key for key in action if action[key] is not None]
    if len(kinds) != 1 or kinds[0] not in SUPPORTED_ACTIONS:
        raise UnsupportedTopicRule(
            f"action {sorted(kinds)} is not emulated (supported: Sqs, Lambda)"
        )
    return kinds[0]


def validate_rule(sql: str, version: str | None, actions: list[dict[str, Any]], error_action: dict[str, Any]) -> None:
    """Fail loudly for SQL or actions the local cloud does not run (API shapes: ``sqs``/``lambda``)."""
    try:
        iotsql.parse(sql, version)
    except iotsql.UnsupportedIotSql as exc:
        raise UnsupportedTopicRule(str(exc)) from None
    if not actions:
        raise UnsupportedTopicRule("a topic rule needs at least one action")
    for action in actions:
        _action_kind(action)
    if error_action:
        _action_kind(error_action)


def _query_for(account: str, region: str, rule: Any) -> iotsql.Query | None:
    key = (account, region, rule.rule_name)
    cached = _queries.get(key)
    if cached is not None and cached[0] == rule.sql:
        return cached[1]
    query: iotsql.Query | None
    try:
        query = iotsql.parse(rule.sql, rule.aws_iot_sql_version)
    except iotsql.UnsupportedIotSql as exc:
        log.warning("topic rule %s is skipped: %s", rule.rule_name, exc)
        query = None
    _queries[key] = (rule.sql, query)
    return query


# ------------------------------------------------------------------------------------ actions
def _output_bytes(output: bytes | dict[str, Any]) -> bytes:
    if isinstance(output, bytes):
        return output
    return json.dumps(output, separators=(",", ":")).encode("utf-8")


def _queue_name_and_account(queue_url: str, default_account: str) -> tuple[str, str]:
    parts = queue_url.rstrip("/").split("/")
    account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else default_account
    return parts[-1], account


def _execute(account: str, region: str, kind: str, spec: dict[str, Any], body: bytes) -> None:
    if kind == "sqs":
        from moto.sqs.models import sqs_backends

        name, queue_account = _queue_name_and_account(str(spec["queueUrl"]), account)
        message = base64.b64encode(body).decode("ascii") if spec.get("useBase64") else body.decode("utf-8")
        sqs_backends[queue_account][region].send_message(name, message)
        return
    from moto.awslambda.utils import get_backend

    try:
        json.loads(body)
    except ValueError as exc:
        raise ValueError("the Lambda action needs a JSON payload (decode binary payloads in the SQL)") from exc
    function_arn = str(spec["functionArn"])
    # An asynchronous invoke: accepted (queued on the delivery pool) or rejected (unknown function).
    get_backend(account, region).invoke(
        function_arn, None, body.decode("utf-8"), {"x-amz-invocation-type": "Event"}, {}
    )


def _resource_of(kind: str, spec: dict[str, Any]) -> str:
    return str(spec.get("queueUrl") if kind == "sqs" else spec.get("functionArn"))


def _run_rule(account: str, region: str, rule_name: str, actions: list[dict[str, Any]],
              error_action: dict[str, Any], message: iotsql.Message, output: bytes | dict[str, Any]) -> None:
    body = _output_bytes(output)
    failures: list[dict[str, str]] = []
    for action in actions:
        kind = _action_kind(action)
        try:
            _execute(account, region, kind, action[kind], body)
        except Exception as exc:  # each failed action becomes one entry of the error message
            failures.append({
                "failedAction": SUPPORTED_ACTIONS[kind],
                "failedResource": _resource_of(kind, action[kind]),
                "errorMessage": f"{type(exc).__name__}: {exc}. Message arrived on: {message.topic}, Action: {kind}",
            })
    if not failures:
        return
    if not error_action:
        log.warning("topic rule %s: %d action(s) failed and there is no error action: %s",
                    rule_name, len(failures), failures)
        return
    envelope = {
        "ruleName": rule_name,
        "topic": message.topic,
        "cloudwatchTraceId": str(uuid.uuid4()),
        "clientId": message.client_id,
        "base64OriginalPayload": base64.b64encode(message.payload).decode("ascii"),
        "failures": failures,
    }
    kind = _action_kind(error_action)
    try:
        _execute(account, region, kind, error_action[kind], json.dumps(envelope).encode("utf-8"))
    except Exception as exc:  # AWS only logs a failed error action
        log.warning("topic rule %s: the error action failed too: %s", rule_name, exc)


def route(account: str, region: str, topic: str, payload: bytes) -> int:
    """Evaluate every enabled rule for one publish and queue the matching rules' actions.

    Returns how many rules matched (for tests and logs)."""
    from moto.iot.models import iot_backends

    rules = list(iot_backends[account][region].rules.values())
    if not rules:
        return 0
    message = iotsql.Message.of(topic, payload)
    matched = 0
    for rule in rules:
        if rule.rule_disabled:
            continue
        query = _query_for(account, region, rule)
        if query is None or not query.matches_topic(topic):
            continue
        try:
            output = query.evaluate(message)
        except iotsql.IotSqlEvaluationError as exc:
            log.warning("topic rule %s: SQL evaluation failed for %s: %s", rule.rule_name, topic, exc)
            continue
        if output is None:
            continue
        try:
            for action in [*rule.actions, *([rule.error_action] if rule.error_action else [])]:
                _action_kind(action)
        except UnsupportedTopicRule as exc:
            if (rule.arn, str(exc)) not in _warned:
                _warned.add((rule.arn, str(exc)))
                log.warning("topic rule %s is skipped: %s", rule.rule_name, exc)
            continue
        matched += 1
        deliveries.submit(
            rule.arn, _run_rule, account, region, rule.rule_name, list(rule.actions), dict(rule.error_action or {}),
            message, output,
        )
    return matched


def apply() -> None:
    """Route ``IoTDataPlaneBackend.publish`` through the topic rules (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.iotdata.models import IoTDataPlaneBackend

        original_publish = IoTDataPlaneBackend.publish

        def publish(self: Any, topic: str, payload: Any) -> None:
            raw = payload if isinstance(payload, bytes) else str(payload or "").encode("utf-8")
            original_publish(self, topic, raw)
            route(self.account_id, self.region_name, topic, raw)

        IoTDataPlaneBackend.publish = publish  # type: ignore[method-assign]
        _route_account_endpoint()
        _applied = True


ACCOUNT_DATA_ENDPOINT = r"https?://[a-z0-9]+-ats\.iot\.(.+)\.amazonaws\.com"


def _route_account_endpoint() -> None:
    import re

    from moto import backend_index
    from moto.iotdata import urls

    if ACCOUNT_DATA_ENDPOINT not in urls.url_bases:
        urls.url_bases.append(ACCOUNT_DATA_ENDPOINT)
    patterns = backend_index.backend_url_patterns
    if not any(service == "iotdata" and pattern.pattern == ACCOUNT_DATA_ENDPOINT for service, pattern in patterns):
        patterns.insert(0, ("iotdata", re.compile(ACCOUNT_DATA_ENDPOINT)))
