"""What each Lambda function's code calls on AWS, checked against what its role allows.

The local cloud does not enforce IAM, so a function whose policy lacks an action its code calls works here and
fails on AWS with AccessDenied (the dispatch function could not answer its own wait until 2026-12-04). While
recording, every AWS request a handler makes - in-process, under its own environment - is noted as (function,
IAM action); `unallowed` lists those the function's role in the translated template does not allow.

Action level only: resources and conditions are not evaluated (an action must be allowed somewhere in the role).
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.localcloud.cloud import LocalCloud

_lock = threading.Lock()
_calls: Counter[tuple[str, str]] | None = None  # (function name, IAM action) -> requests, while recording
_first_from: dict[tuple[str, str], str] = {}  # where in the project's code each pair was first called
_applied = False

# botocore's service ids (as in its event names) whose IAM prefix differs.
IAM_PREFIX = {"sfn": "states", "eventbridge": "events", "secrets-manager": "secretsmanager", "sesv2": "ses",
              "cloudwatch-logs": "logs", "iot-data-plane": "iot", "api-gateway": "apigateway"}
# Operations authorised as another action (S3's HEAD and list calls; DynamoDB's transactions are per item).
IAM_ACTION = {("s3", "HeadObject"): "GetObject", ("s3", "HeadBucket"): "ListBucket",
              ("s3", "ListObjectsV2"): "ListBucket", ("s3", "DeleteObjects"): "DeleteObject",
              ("dynamodb", "TransactGetItems"): "GetItem"}
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem"}
# AWS managed policies SAM attaches to every function (their actions, for the few calls that could need them).
MANAGED = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":
           ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
           "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess":
           ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
            "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"]}


def iam_actions(event_name: str, body: bytes | str | None) -> list[str]:
    """The IAM actions a botocore request (``before-send.<service>.<Operation>``) needs."""
    _, service, operation = event_name.split(".", 2)
    prefix = IAM_PREFIX.get(service, service)
    if (service, operation) == ("s3", "CopyObject"):  # read the source, write the copy
        return ["s3:GetObject", "s3:PutObject"]
    if (service, operation) == ("dynamodb", "TransactWriteItems"):
        try:
            items = json.loads(body or b"{}").get("TransactItems", [])
        except ValueError:
            items = []
        kinds = {kind for item in items for kind in item}
        return sorted(f"dynamodb:{_TRANSACT_ACTIONS[k]}" for k in kinds if k in _TRANSACT_ACTIONS)
    return [f"{prefix}:{IAM_ACTION.get((service, operation), operation)}"]


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
            if function and event_name.startswith("before-send."):
                for action in iam_actions(event_name, getattr(request, "body", None)):
                    with _lock:
                        calls[(function, action)] += 1
                        if (function, action) not in _first_from:
                            _first_from[(function, action)] = _caller()
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


def recorded() -> dict[tuple[str, str], int]:
    with _lock:
        return dict(_calls or {})


def allowed(translated: dict[str, Any], function_logical_id: str) -> list[str]:
    """The action patterns the function's role allows: its inline policies, the policies attached to it, and
    the AWS managed policies SAM attaches (`MANAGED`)."""
    resources = translated["Resources"]
    role_ref = resources[function_logical_id]["Properties"]["Role"]
    role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref else None
    if role_id is None:
        return []
    role = resources[role_id]["Properties"]
    documents = [p["PolicyDocument"] for p in role.get("Policies", [])]
    documents += [r["Properties"]["PolicyDocument"] for r in resources.values()
                  if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                  and {"Ref": role_id} in r["Properties"].get("Roles", [])]
    patterns = [a for arn in role.get("ManagedPolicyArns", []) for a in MANAGED.get(arn, [])]
    for document in documents:
        statements = document["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") == "Allow":
                actions = statement.get("Action", [])
                patterns += [actions] if isinstance(actions, str) else actions
    return patterns


def unallowed(cloud: LocalCloud) -> dict[str, list[str]]:
    """Per function (logical id), the recorded actions its role does not allow, each with where it was called."""
    resources = cloud.translated["Resources"]
    logical = {cloud.physical(name): name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    found: dict[str, set[str]] = {}
    for (function, action), _ in recorded().items():
        name = logical.get(function)
        if name is None:
            continue  # another cloud's function (a second local cloud in the same process)
        if not any(fnmatchcase(action.lower(), pattern.lower()) for pattern in allowed(cloud.translated, name)):
            found.setdefault(name, set()).add(f"{action} from {_first_from.get((function, action), '?')}")
    return {name: sorted(actions) for name, actions in sorted(found.items())}
