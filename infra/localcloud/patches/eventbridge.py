"""Patch: EventBridge rules deliver to Lambda and Step Functions targets; bus refs resolve.

Moto gaps closed:

* ``Rule.send_to_targets`` only knows log groups, archives, SQS, buses and API destinations; a
  Lambda or Step Functions target makes ``PutEvents`` raise ``NotImplementedError``. Here those
  targets are delivered asynchronously on the delivery pool (Lambda: an ``Event`` invoke with the
  event; Step Functions: ``StartExecution`` with the event as input), the rest still goes through
  moto's own code.
* ``EventBus`` has no ``physical_resource_id``, so ``EventBusName: !Ref Bus`` in a rule hands moto's
  CloudFormation the bus *object* and the deploy crashes. On AWS ``Ref`` of a bus is its name.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.localcloud.pumps import deliveries

_applied = False
_lock = threading.Lock()


class _RuleView:
    """The rule as moto's ``send_to_targets`` should see it: only the targets moto can deliver."""

    def __init__(self, rule: Any, targets: list[dict[str, Any]]) -> None:
        self._rule = rule
        self.targets = targets

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rule, name)


def aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as AWS delivers it: ``time`` as ISO-8601 UTC, no moto-internal keys."""
    shaped = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(shaped.get("time"), int | float):
        shaped["time"] = datetime.fromtimestamp(float(shaped["time"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """Apply ``Input`` / ``InputPath`` / ``InputTransformer`` the way EventBridge does."""
    event = aws_event(event)
    if "Input" in target:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        value: Any = event
        for part in target["InputPath"].lstrip("$").strip(".").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return value
    if target.get("InputTransformer"):
        from moto.events.models import EventTemplateParser

        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return event


def _deliver_to_lambda(account: str, region: str, function_arn: str, payload: Any) -> None:
    from moto.awslambda.utils import get_backend

    body = payload if isinstance(payload, str) else json.dumps(payload)
    # The asynchronous invoke queues on the delivery pool (see lambda_inprocess).
    get_backend(account, region).invoke(function_arn, None, body, {"x-amz-invocation-type": "Event"}, {})


def _deliver_to_state_machine(account: str, region: str, machine_arn: str, payload: Any) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    body = payload if isinstance(payload, str) else json.dumps(payload)
    stepfunctions_parser_backends[account][region].start_execution(
        machine_arn, name=str(uuid.uuid4()), execution_input=body
    )


def apply() -> None:
    """Extend ``Rule.send_to_targets`` and give ``EventBus`` its CloudFormation physical id."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.events import models as events_models
        from moto.utilities.arns import parse_arn

        original_send = events_models.Rule.send_to_targets

        def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
            if not self.event_pattern.matches_event(original_event):
                return
            native: list[dict[str, Any]] = []
            for target in self.targets:
                arn = parse_arn(target["Arn"])
                if arn.service == "lambda":
                    payload = _target_input(target, original_event) if transform_input else aws_event(original_event)
                    deliveries.submit(
                        target["Arn"], _deliver_to_lambda, arn.account, arn.region, target["Arn"], payload
                    )
                elif arn.service == "states":
                    payload = _target_input(target, original_event) if transform_input else aws_event(original_event)
                    deliveries.submit(
                        target["Arn"], _deliver_to_state_machine, arn.account, arn.region, target["Arn"], payload
                    )
                else:
                    native.append(target)
            if native:
                original_send(_RuleView(self, native), original_event, transform_input)

        events_models.Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
        if not hasattr(events_models.EventBus, "physical_resource_id"):
            events_models.EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]
        _applied = True
