"""What each Lambda function's code calls on AWS, checked against what its role allows.

The local cloud does not enforce IAM, so a function whose policy lacks an action its code calls works here and
fails on AWS with AccessDenied (the dispatch function could not answer its own wait until 2026-12-04). While
recording, every AWS request a handler makes - in-process, under its own environment - is noted as (function,
IAM action, resource ARN); `unallowed` lists those the function's role does not allow, reading the role as the
deployed stack holds it (its statements with the stack's ARNs resolved).

Conditions are not evaluated. The resource is derived for the services the project calls (DynamoDB tables and
indexes, queues, objects, topics and SMS, mail identities, state machines and executions, buses, secrets,
schedules, functions); a request of another service is checked by its action only.
"""

from __future__ import annotations

import ast
import json
import os
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from infra.localcloud.cloud import LocalCloud

Need = tuple[str, str | None]  # (IAM action, resource ARN; None: not derived, the action alone is checked)

_lock = threading.Lock()
_calls: Counter[tuple[str, str, str | None]] | None = None  # (function, action, resource) -> requests
_first_from: dict[tuple[str, str, str | None], str] = {}  # where in the project's code each was first called
_applied = False

# botocore's service ids (as in its event names) whose IAM prefix differs.
IAM_PREFIX = {"sfn": "states", "eventbridge": "events", "secrets-manager": "secretsmanager", "sesv2": "ses",
              "cloudwatch-logs": "logs", "iot-data-plane": "iot", "api-gateway": "apigateway"}
# Operations authorised as another action.
IAM_ACTION = {("s3", "HeadObject"): "GetObject", ("s3", "HeadBucket"): "ListBucket",
              ("s3", "ListObjectsV2"): "ListBucket", ("s3", "DeleteObjects"): "DeleteObject",
              ("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
              ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility"}
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
# AWS managed policies SAM attaches to every function (their actions, for the few calls that could need them).
MANAGED = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":
           ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
           "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess":
           ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
            "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"]}


def _params(body: bytes | str | None) -> dict[str, Any]:
    """A request's parameters: JSON protocols, or the query protocol's form (first value of each)."""
    text = body.decode() if isinstance(body, bytes) else (body or "")
    try:
        parsed = json.loads(text or "{}")
        return parsed if isinstance(parsed, dict) else {}
    except ValueError:
        return {k: v[0] for k, v in parse_qs(text).items()}


def needs(event_name: str, url: str, body: bytes | str | None, headers: Any = None,
          region: str = "{region}", account: str = "{account}") -> list[Need]:
    """The (IAM action, resource) pairs a botocore request (``before-send.<service>.<Operation>``) needs."""
    _, service, operation = event_name.split(".", 2)
    action = f"{IAM_PREFIX.get(service, service)}:{IAM_ACTION.get((service, operation), operation)}"
    p = _params(body) if service not in ("s3", "lambda", "scheduler") else {}
    if service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{account}:table/"
        if operation in ("TransactWriteItems", "TransactGetItems"):
            return sorted({(f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table + spec.get("TableName", ""))
                           for item in p.get("TransactItems", []) for kind, spec in item.items()
                           if kind in _TRANSACT_ACTIONS}, key=str)
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, table + name) for name in sorted(p.get("RequestItems", {}))]
        arn = table + str(p.get("TableName", ""))
        return [(action, f"{arn}/index/{p['IndexName']}" if p.get("IndexName") else arn)]
    if service == "sqs":
        if p.get("SourceArn"):
            return [(action, p["SourceArn"])]
        queue_url = str(p.get("QueueUrl", ""))
        owner, _, name = urlsplit(queue_url).path.strip("/").rpartition("/")
        return [(action, f"arn:aws:sqs:{region}:{owner or account}:{name}" if name else None)]
    if service == "s3":
        parts = urlsplit(url)
        host_bucket = parts.netloc.split(".s3")[0] if ".s3" in parts.netloc else ""
        path = unquote(parts.path).lstrip("/")
        bucket, _, key = (host_bucket, "", path) if host_bucket else path.partition("/")
        if operation == "CopyObject":
            raw = (headers or {}).get("x-amz-copy-source", "")
            source = unquote(raw.decode() if isinstance(raw, bytes) else str(raw)).lstrip("/").split("?")[0]
            return [("s3:GetObject", f"arn:aws:s3:::{source}"), ("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")]
        return [(action, f"arn:aws:s3:::{bucket}/{key}" if key and "ListBucket" not in action
                 else f"arn:aws:s3:::{bucket}")]
    if service == "sns":
        return [(action, p.get("TopicArn") or p.get("TargetArn") or "*")]  # a text to a phone number: no ARN
    if service in ("ses", "sesv2"):
        sender = p.get("Source") or p.get("FromEmailAddress")
        return [(action, f"arn:aws:ses:{region}:{account}:identity/{sender}" if sender else None)]
    if service == "sfn":
        if "taskToken" in p:
            return [(action, "*")]  # a task token names no resource IAM can scope
        return [(action, p.get("stateMachineArn") or p.get("executionArn"))]
    if service == "eventbridge":
        buses = {str(e.get("EventBusName") or "default") for e in p.get("Entries", [])} or {"default"}
        return [(action, bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}")
                for bus in sorted(buses)]
    if service == "secrets-manager":
        secret = str(p.get("SecretId", ""))
        return [(action, secret if secret.startswith("arn:") else None)]
    if service == "scheduler":
        name = unquote(urlsplit(url).path).rstrip("/").rpartition("/")[2]
        group = _params(body).get("GroupName") or parse_qs(urlsplit(url).query).get("groupName", ["default"])[0]
        return [(action, f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}")]
    if service == "lambda":
        path = unquote(urlsplit(url).path)
        name = path.split("/functions/", 1)[1].split("/", 1)[0] if "/functions/" in path else ""
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        return [(action, arn if name else None)]
    if service == "cloudwatch" and operation == "PutMetricData":
        return [(action, "*")]
    return [(action, None)]


def permits(statements: Iterable[dict[str, Any]], action: str, resource: str | None) -> bool:
    """Whether an Allow statement names the action and (when known) the resource; `*` and `?` match as IAM's."""
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        if not any(fnmatchcase(action.lower(), a.lower())
                   for a in ([actions] if isinstance(actions, str) else actions)):
            continue
        if resource is None:
            return True
        patterns = statement.get("Resource", [])
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            if pattern == "*" or (resource != "*" and fnmatchcase(resource, pattern)):
                return True
    return False


def apply() -> None:
    """Note each AWS request made inside a Lambda handler while recording (idempotent; installed with the
    local cloud's patches)."""
    global _applied
    with _lock:
        if _applied:
            return
        from infra.localcloud.patches import stubber

        def audited(proceed: Callable[[], Any], _stubber: Any, event_name: str, request: Any) -> Any:
            calls = _calls
            function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") if calls is not None else None
            if function and calls is not None and event_name.startswith("before-send."):
                found = needs(event_name, str(getattr(request, "url", "")), getattr(request, "body", None),
                              getattr(request, "headers", None))
                with _lock:
                    for action, resource in found:
                        calls[(function, action, resource)] += 1
                        _first_from.setdefault((function, action, resource), _caller())
            return proceed()

        stubber.wrap(audited)
        _applied = True


def _caller() -> str:
    """The innermost frames of the project's own code on the stack ("use case < caller < ...")."""
    frames = [f for f in traceback.extract_stack() if "/shared/" in f.filename or "/functions/" in f.filename]
    return " < ".join(f"{f.name} ({f.filename.rsplit('/', 2)[-2]}/{f.filename.rsplit('/', 1)[-1]}:{f.lineno})"
                      for f in reversed(frames[-3:]))


def start() -> None:
    """Record from now on (what was recorded before is forgotten)."""
    global _calls
    apply()  # already, when the local cloud is up
    with _lock:
        _calls = Counter()
        _first_from.clear()


def recorded() -> dict[tuple[str, str, str | None], int]:
    """(function, action, resource) -> requests; a resource's region and account are still placeholders."""
    with _lock:
        return dict(_calls or {})


def resolved(resource: str | None, cloud: LocalCloud) -> str | None:
    """A recorded resource with the cloud's region and account in place of the placeholders."""
    return resource.replace("{region}", cloud.region).replace("{account}", cloud.account_id) if resource else None


def _document(text: Any) -> dict[str, Any]:
    """A policy document as moto keeps it (JSON, or a Python literal for a role's CloudFormation policies)."""
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def role_statements(cloud: LocalCloud, function_name: str) -> list[dict[str, Any]]:
    """The Allow statements of the deployed function's role: its inline policies (the template's statements and
    SAM's policy templates, the ARNs resolved) and the managed policies SAM attaches (`MANAGED`)."""
    from moto.awslambda.utils import get_backend
    from moto.iam.models import iam_backends

    role_arn = get_backend(cloud.account_id, cloud.region).get_function(function_name).role
    role = iam_backends[cloud.account_id]["global"].get_role(role_arn.rsplit("/", 1)[-1])
    statements: list[dict[str, Any]] = []
    for text in role.policies.values():
        found = _document(text)["Statement"]
        statements += found if isinstance(found, list) else [found]
    statements += [{"Effect": "Allow", "Action": MANAGED.get(arn, []), "Resource": "*"}
                   for arn in role.managed_policies]
    return statements


def unallowed(cloud: LocalCloud) -> dict[str, list[str]]:
    """Per function (logical id), the recorded calls its role does not allow, each with where it was made."""
    resources = cloud.translated["Resources"]
    logical = {cloud.physical(name): name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    statements: dict[str, list[dict[str, Any]]] = {}
    found: dict[str, set[str]] = {}
    for function, action, resource in recorded():
        name = logical.get(function)
        if name is None:
            continue  # another cloud's function (a second local cloud in the same process)
        if function not in statements:
            statements[function] = role_statements(cloud, function)
        arn = resolved(resource, cloud)
        if not permits(statements[function], action, arn):
            where = _first_from.get((function, action, resource), "?")
            found.setdefault(name, set()).add(f"{action} on {arn or '(any)'} from {where}")
    return {name: sorted(calls) for name, calls in sorted(found.items())}
